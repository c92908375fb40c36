"""The report's nested fork-join tables (cbench_report/nested.py) on a small hand-made run: ns per
task beside the runtime's own fib, the speedup against the reference's tree, a deadlock and an
executor without the capability shown as results, and neither counted among the failed cases
nor drawn as an experiment row."""
import tempfile
import unittest
from pathlib import Path

import synth
from helpers import write_json

from cbench_report import registry
from cbench_report.charts import nested_charts
from cbench_report.load import load_run
from cbench_report.nested import nested_tables, table_note
from cbench_report.scaling import experiment_points
from cbench_report.tables import warnings


def error_row(name: str, message: str) -> dict:
    return {"name": name + synth.SUFFIX, "run_name": name + synth.SUFFIX, "run_type": "iteration",
            "repetitions": 1, "repetition_index": 0, "threads": 1, "iterations": 0,
            "real_time": 0, "cpu_time": 0, "time_unit": "ms", "error_occurred": True,
            "error_message": message}


def nested_run() -> dict:
    counters = lambda ns, w: {"tasks": 1000, "tasks_per_second": 1e9 / ns, "ns_per_task": ns,
                              "workers": w, "cores": 2}
    rows = []
    rows += synth.rows("fib/executor:sequential/mode:fork-join/workers:1", [0.004], counters(4, 1))
    rows += synth.rows("fib/executor:pool/mode:fork-join/workers:2", [0.002], counters(2, 2))
    rows.append(error_row("fib/executor:pool/mode:blocking/workers:2",
                          "deadlock: all 2 workers wait for children, and the 3 queued tasks "
                          "have no worker left to run them (in fib(30))"))
    rows.append(error_row("fib/executor:thread/mode:not-supported/workers:1",
                          "not supported: thread has no nested fork-join"))
    rows += synth.rows("fib:native/executor:sequential/workers:1", [0.001], counters(1, 1))
    rows += synth.rows("fib:native/executor:pool/workers:2", [0.001], counters(1, 2))
    rows += synth.rows("pbkdf2/executor:sequential/mode:map/workers:1", [0.3])
    ctx = synth.context(cbench_executors="sequential:caller,thread:threads,pool:threads")
    return {"context": ctx, "benchmarks": rows}


class NestedTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.run = load_run(write_json(Path(self.dir.name) / "run.json", nested_run()))

    def tearDown(self):
        self.dir.cleanup()
        registry.use({})  # the run's registry is global: the other tests expect the default one

    def test_table_puts_the_runtimes_own_fib_beside_each_row(self):
        [table] = nested_tables(self.run)
        self.assertEqual(table.workload, "fib")
        by_key = {(r[0], r[1], r[2]): r for r in table.rows}
        self.assertEqual(by_key["sequential", "fork-join", "1"][3:], ["4.0", "250 M", "1.00", "1.0"])
        self.assertEqual(by_key["pool", "fork-join", "2"][3:], ["2.0", "500 M", "2.00", "1.0"])
        self.assertEqual(by_key["pool", "blocking", "2"][3], "deadlock")
        self.assertEqual(by_key["thread", "—", "—"][3], "not supported")

    def test_deadlock_and_no_support_are_results_not_failures(self):
        [table] = nested_tables(self.run)
        self.assertEqual(table.not_supported, ["thread"])
        self.assertEqual(table.deadlocks, ["pool (blocking) at W = 2"])
        self.assertIn("Not supported (no nested fork-join): thread.", table_note(table))
        self.assertFalse([w for w in warnings(self.run) if "failed" in w])

    def test_chart_draws_the_fork_join_beside_the_runtimes_own(self):
        [chart] = nested_charts(self.run)
        self.assertEqual(chart.stem, "nested-fib")
        labels = chart.figure.axes[0].get_legend_handles_labels()[1]
        self.assertEqual(labels, ["sequential", "sequential: the runtime's own fib",
                                  "pool", "pool: the runtime's own fib"])

    def test_nested_rows_are_not_experiment_points(self):
        self.assertEqual({p.workload for p in experiment_points(self.run)}, {"pbkdf2"})


if __name__ == "__main__":
    unittest.main()
