"""Cost against work (scripts/cbench_report/scale.py): the --cbench_scale rows, their fitted
exponents, their table and chart, and that they are no experiment's rows."""
import json
import tempfile
import unittest
from pathlib import Path

import helpers  # noqa: F401  (puts scripts/ on the path)
import synth
from cbench_report.load import load_run
from cbench_report.scale import fit_exponent, scale_fits, scale_points, scale_rows
from cbench_report.scaling import experiment_points


def run_with_scale_rows():
    b = synth.Builder(seed=7, noise=0.0, repetitions=3)
    # pbkdf2 grows as its work does; wordcount's cost grows faster (1.2) once the data leaves the
    # caches; sequential at W = 1, pool at W = 2.
    for executor, workers, base, exponent in (("sequential", 1, 0.1, 1.0), ("pool", 2, 0.05, 1.2)):
        for scale in (1, 4, 16):
            b.add(f"scale/workload:pbkdf2/executor:{executor}/workers:{workers}/scale:{scale}",
                  base * scale, {"scale": scale, "workers": workers})
            b.add(f"scale/workload:wordcount/executor:{executor}/workers:{workers}/scale:{scale}",
                  base * scale ** exponent, {"scale": scale, "workers": workers})
    return {"context": synth.context(), "benchmarks": b.benchmarks}


class ScaleTest(unittest.TestCase):
    def setUp(self):
        d = tempfile.TemporaryDirectory()
        self.addCleanup(d.cleanup)
        path = Path(d.name) / "run.json"
        path.write_text(json.dumps(run_with_scale_rows()))
        self.run_ = load_run(path)

    def test_the_exponent_is_the_log_log_slope(self):
        self.assertAlmostEqual(fit_exponent([1, 4, 16], [2, 8, 32]), 1.0)
        self.assertAlmostEqual(fit_exponent([1, 10], [1, 100]), 2.0)
        self.assertIsNone(fit_exponent([4, 4], [1, 2]))

    def test_fits_per_workload_and_executor(self):
        fits = {(f.workload, f.executor): f for f in scale_fits(scale_points(self.run_))}
        self.assertEqual(len(fits), 4)
        self.assertAlmostEqual(fits[("pbkdf2", "sequential")].exponent, 1.0, places=6)
        self.assertAlmostEqual(fits[("wordcount", "pool")].exponent, 1.2, places=6)
        self.assertEqual(fits[("wordcount", "pool")].workers, 2)
        rows = {(r[0], r[1]): r for r in scale_rows(list(fits.values()))}
        self.assertEqual(rows[("wordcount", "pool")][3], "1–16")
        self.assertEqual(rows[("wordcount", "pool")][5], "1.20")

    def test_scale_rows_are_no_experiment_rows(self):
        self.assertEqual(experiment_points(self.run_), [])

    def test_the_chart_and_the_summary_have_them(self):
        from cbench_report.charts import run_charts
        from cbench_report.markdown import render_summary
        self.assertIn("scale", [c.stem for c in run_charts(self.run_)])
        summary = render_summary(self.run_, [], [])
        self.assertIn("### Cost against work", summary)
        self.assertIn("| wordcount | pool | 2 | 1–16 |", summary)


if __name__ == "__main__":
    unittest.main()
