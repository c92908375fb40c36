"""Rankings that say "tied" (tables.rankings), no interval from one run, anomalies flagged
instead of drawn, and "about the same" between the languages."""
import random
import unittest

from test_languages import LanguageTableTest, point, workload

from cbench_report.scaling import Point
from cbench_report.tables import (anomalies, fastest_rows, interval_cell, ranking_note, rankings,
                                  workload_rows)


def repeated(workload_name, executor, workers, median, spread, reps, seed, lang="cpp", **more):
    rng = random.Random(seed)
    times = tuple(median * (1 + spread * rng.gauss(0, 1)) for _ in range(reps))
    ordered = sorted(times)
    return Point(key=f"{workload_name}/executor:{executor}/mode:map/workers:{workers}",
                 workload=workload_name, executor=executor, mode="map", lang=lang,
                 workers=workers, seconds=ordered[len(ordered) // 2],
                 seconds_ci=(ordered[0], ordered[-1]), repetitions=reps, times=times, **more)


class TiesTest(unittest.TestCase):
    def test_indistinguishable_executors_are_tied(self):
        points = [repeated("eigen", "sequential", 1, 0.200, 0.01, 5, 1),
                  repeated("eigen", "pool", 2, 0.100, 0.03, 5, 2),
                  repeated("eigen", "tbb", 2, 0.101, 0.03, 5, 3),
                  repeated("eigen", "fork", 2, 0.130, 0.01, 5, 4)]
        (r,) = rankings(points)
        self.assertTrue(r.tested)
        self.assertEqual({r.best.executor, *(p.executor for p in r.tied)}, {"pool", "tbb"})
        row = fastest_rows(points)[0]
        self.assertIn("(2)", row[-1])
        self.assertNotIn("fork", row[-1])
        self.assertIn("95% bootstrap interval of the ratio", ranking_note(points))

    def test_clearly_apart_is_not_tied(self):
        points = [repeated("pbkdf2", "pool", 2, 0.100, 0.005, 5, 5),
                  repeated("pbkdf2", "thread", 2, 0.110, 0.005, 5, 6)]
        (r,) = rankings(points)
        self.assertEqual((r.best.executor, r.tied), ("pool", ()))
        self.assertEqual(fastest_rows(points)[0][-1], "none")

    def test_one_run_prints_no_interval_and_says_so(self):
        points = [point("count", "sequential", "cpp", 1, 0.101, 1.0),
                  point("count", "coro", "cpp", 2, 0.0505, 2.0),
                  point("count", "pool", "cpp", 2, 0.0515, 1.96),
                  point("count", "thread", "cpp", 2, 0.060, 1.68)]
        (r,) = rankings(points)
        self.assertFalse(r.tested)
        self.assertEqual([p.executor for p in r.tied], ["pool"])  # within 5%; thread is not
        self.assertIn("rests on one run", ranking_note(points))
        self.assertEqual(interval_cell(points[0]), "one run")
        for row in workload_rows(points)["count"]:
            self.assertNotIn(" – ", row[3])


class AnomalyTest(unittest.TestCase):
    def test_efficiency_beyond_the_ideal_and_w1_faster_than_the_loop(self):
        normal = point("wordcount-http", "pool", "python", 2, 0.11, 1.8)
        w1 = Point(key="wordcount-http/lang:python/executor:pool/mode:map/workers:1",
                   workload="wordcount-http", executor="pool", mode="map", lang="python",
                   workers=1, seconds=0.115, seconds_ci=(0.115, 0.115), repetitions=1,
                   speedup=1.77, efficiency=1.19, efficiency_ci=(1.19, 1.19))
        found = anomalies([normal, w1])
        self.assertEqual(list(found), [w1.key])
        self.assertIn("efficiency 119% is beyond the ideal", found[w1.key])
        slow = Point(key="double/executor:thread/mode:map/workers:1", workload="double",
                     executor="thread", mode="map", lang="cpp", workers=1, seconds=5e-4,
                     seconds_ci=(5e-4, 5e-4), repetitions=1, speedup=0.01, efficiency=0.01,
                     efficiency_ci=(0.01, 0.01))
        self.assertEqual(anomalies([slow]), {})  # slower is its dispatch cost, not an anomaly
        fast_w1 = Point(key="pbkdf2/executor:pool/mode:map/workers:1", workload="pbkdf2",
                        executor="pool", mode="map", lang="cpp", workers=1, seconds=0.3,
                        seconds_ci=(0.3, 0.3), repetitions=1, speedup=1.3)
        self.assertIn("faster than the plain loop", anomalies([fast_w1])[fast_w1.key])


class AboutTheSameTest(unittest.TestCase):
    tables = LanguageTableTest.tables

    def test_about_the_same(self):
        t = self.tables(workload("pbkdf2", 0.376, 0.19, 0.38, 0.192), {"pbkdf2": "cpu"})["pbkdf2"]
        self.assertIn("one core takes about the same time in both", t.sentence)
        self.assertIn("(about the same)", t.sentence)
        apart = self.tables(workload("pbkdf2", 0.376, 0.19, 0.45, 0.25), {"pbkdf2": "cpu"})["pbkdf2"]
        self.assertNotIn("about the same", apart.sentence)


class InterfaceTaxTest(unittest.TestCase):
    def test_dispatch_over_the_runtime_alone_at_the_same_workers(self):
        from helpers import FIXTURES
        from cbench_report.load import load_run
        from cbench_report.tables import interface_tax, tax_rows
        taxes = {(t.executor, t.workers): t for t in interface_tax(load_run(FIXTURES / "run" / "results.json"))}
        # synth.py: pool 400 ns per task through cbench at W = 1 against 100 ns alone.
        self.assertAlmostEqual(taxes[("pool", 1)].ratio, 4.0, places=6)
        self.assertAlmostEqual(taxes[("sequential", 1)].ratio, 4.0, places=6)
        self.assertNotIn(("thread", 1), taxes)  # no floor row: no tax claimed
        row = tax_rows([taxes[("pool", 1)]])[0]
        self.assertEqual(row, ["pool", "1", "400 ns", "100 ns", "4.00×"])

    def test_start_up_per_run_is_its_own_figure(self):
        from helpers import FIXTURES
        from cbench_report.load import load_run
        from cbench_report.tables import wake_rows
        rows = wake_rows(load_run(FIXTURES / "run" / "results.json"))
        self.assertIn(["pool", "2", "60 µs"], rows)



if __name__ == "__main__":
    unittest.main()
