"""METG on a hand-computed example (fixtures/hand.json, W = 2 on 2 cores, 128 tasks).

pool reaches 0.1, 0.3, 0.7, 0.9 at 1, 10, 100, 1000 µs: 50% lies between 10 µs (0.3) and
100 µs (0.7), halfway in efficiency, so halfway in log(size): 10^1.5 = 31.62 µs.
thread peaks at 0.4: not reached. tbb is at 0.6 already at 1 µs: METG ≤ 1 µs.
"""
import dataclasses
import math
import unittest

from helpers import FIXTURES

from cbench_report.load import load_run
from cbench_report.names import parse_name
from cbench_report.metg import granularity_efficiency, granularity_points, metg, metg_table
from cbench_report.tables import metg_rows


class MetgTest(unittest.TestCase):
    def test_interpolated_in_log_size(self):
        value, at_smallest = metg([1e-6, 1e-5, 1e-4, 1e-3], [0.1, 0.3, 0.7, 0.9])
        self.assertAlmostEqual(value, 10 ** 1.5 * 1e-6, places=12)
        self.assertFalse(at_smallest)
        # A quarter of the way in efficiency is a quarter of the way in log size.
        value, _ = metg([1e-5, 1e-4], [0.4, 0.8])
        self.assertAlmostEqual(value, 10 ** -4.75, places=12)

    def test_not_reached_and_reached_at_once(self):
        self.assertEqual(metg([1e-6, 1e-5], [0.1, 0.4]), (None, False))
        self.assertEqual(metg([1e-5, 1e-6], [0.9, 0.6]), (1e-6, True))  # unsorted input

    def test_efficiency_of_a_row(self):
        # 128 tasks of 10 µs on min(2, 2) cores = 640 µs of work per core, in 640/0.3 µs.
        self.assertAlmostEqual(granularity_efficiency(128, 1e-5, 2, 2, 6.4e-4 / 0.3), 0.3)
        # More workers than cores: still divided by the 2 cores.
        self.assertAlmostEqual(granularity_efficiency(256, 1e-5, 4, 2, 1.28e-3), 1.0)

    def test_hand_example(self):
        points = granularity_points(load_run(FIXTURES / "hand.json"))
        pool = [round(p.efficiency, 9) for p in points if p.executor == "pool"]
        self.assertEqual(pool, [0.1, 0.3, 0.7, 0.9])
        table = {m.executor: m for m in metg_table(points)}
        self.assertAlmostEqual(table["pool"].seconds, 31.6227766e-6, places=12)
        self.assertEqual(table["pool"].describe(), "31.6 µs")
        self.assertIsNone(table["thread"].seconds)
        self.assertEqual(table["thread"].describe(), "not reached")
        self.assertTrue(table["tbb"].at_smallest)
        self.assertEqual(table["tbb"].describe(), "≤ 1 µs")

    def test_tasks_default_to_64_per_worker(self):
        run = load_run(FIXTURES / "hand.json")
        bench = run.benchmarks["granularity/executor:pool/workers:2/task_us:10"]
        del bench.counters["tasks"]
        point = next(p for p in granularity_points(run)
                     if p.executor == "pool" and math.isclose(p.task_seconds, 1e-5))
        self.assertEqual(point.tasks, 128)  # 64 × 2: the same as the fixture's counter

    def test_native_floor_rows_have_their_own_metg_beside_the_executors(self):
        run = load_run(FIXTURES / "hand.json")
        # pool's runtime alone reaches 0.6 already at 1 µs (six times its 0.1 there): ≤ 1 µs.
        for key in [k for k in run.benchmarks if k.startswith("granularity/executor:pool/")]:
            b = run.benchmarks[key]
            native_key = "granularity:native" + key[len("granularity"):]
            times = b.real_times if not key.endswith("task_us:1") else tuple(
                t / 6 for t in b.real_times)
            run.benchmarks[native_key] = dataclasses.replace(
                b, name=parse_name(native_key), real_times=times)
        table = metg_table(granularity_points(run))
        floors = [m for m in table if m.native]
        self.assertEqual([(m.executor, m.workers) for m in floors], [("pool", 2)])
        self.assertEqual(floors[0].describe(), "≤ 1 µs")
        rows = {r[0]: r for r in metg_rows(table)}
        self.assertEqual(rows["pool"], ["pool", "2", "31.6 µs", "≤ 1 µs"])
        self.assertEqual(rows["thread"][3], "—")  # no floor rows in this run
        self.assertNotIn(True, [m.native for m in table if m.executor == "thread"])


if __name__ == "__main__":
    unittest.main()
