"""A run across hosts swept once per link setting (scripts/bench --links): the rows of each
setting carry ``link:SETTING``; the run reads as the first setting's, and the links chart
compares the mpi executor's granularity curves of every setting."""
import json
import tempfile
import unittest
from pathlib import Path

from helpers import FIXTURES

import synth

from cbench_report.charts import link_chart, run_charts
from cbench_report.load import load_run
from cbench_report.metg import granularity_points, metg_table

# (task µs, wall seconds at W = 2 on 2 cores, 128 tasks): efficiency = 128·t/2 / wall.
SIZES = (10, 100, 1000)
EFFICIENCY = {"unshaped": (0.2, 0.6, 0.9), "100mbit": (0.1, 0.3, 0.7)}


def document() -> dict:
    rows = []
    for link, efficiencies in EFFICIENCY.items():
        for task_us, efficiency in zip(SIZES, efficiencies):
            wall = 128 * task_us * 1e-6 / 2 / efficiency
            rows += synth.rows(f"granularity/executor:mpi/workers:2/task_us:{task_us}/link:{link}",
                               [wall], {"tasks": 128, "cores": 2, "task_seconds": task_us * 1e-6},
                               unit="s")
        rows += synth.rows(f"eigen/executor:mpi/mode:map/workers:2/link:{link}", [0.5], unit="s")
    return {"context": synth.context(), "benchmarks": rows}


class LinksTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.path = Path(cls.tmp.name) / "results.json"
        cls.path.write_text(json.dumps(document()))
        cls.result = load_run(cls.path)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_the_run_is_the_first_setting_without_the_segment(self):
        self.assertEqual(list(self.result.links), ["unshaped", "100mbit"])
        self.assertIn("eigen/executor:mpi/mode:map/workers:2", self.result.benchmarks)
        self.assertFalse(any("link:" in key for key in self.result.benchmarks))
        efficiencies = [round(p.efficiency, 9) for p in granularity_points(self.result)]
        self.assertEqual(efficiencies, [0.2, 0.6, 0.9])

    def test_each_setting_has_its_own_metg(self):
        metgs = {}
        for link, benchmarks in self.result.links.items():
            run = type(self.result)(self.result.path, self.result.context, benchmarks)
            (m,) = metg_table(granularity_points(run))
            metgs[link] = m.seconds
        # 50% between 10 µs (0.2) and 100 µs (0.6), three quarters of the way; at 100mbit
        # between 100 µs (0.3) and 1000 µs (0.7), half of the way.
        self.assertAlmostEqual(metgs["unshaped"], 10 ** 1.75 * 1e-6, places=12)
        self.assertAlmostEqual(metgs["100mbit"], 10 ** 2.5 * 1e-6, places=12)

    def test_one_chart_compares_the_settings(self):
        chart = link_chart(self.result)
        self.assertIsNotNone(chart)
        self.assertEqual(chart.stem, "links")
        labels = chart.figure.axes[0].get_legend_handles_labels()[1]
        self.assertEqual(len(labels), 2)
        self.assertIn("links unshaped", labels[0])
        self.assertIn("links 100mbit", labels[1])
        self.assertIn("links", [c.stem for c in run_charts(self.result)])

    def test_a_run_of_one_setting_has_no_links_chart(self):
        self.assertIsNone(link_chart(load_run(FIXTURES / "hand.json")))


if __name__ == "__main__":
    unittest.main()
