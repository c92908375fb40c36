"""The plan of a run (plan.py): Google Benchmark's growth of iterations, the time outside the
timing, fixed iteration counts, one process per block with its start-up and its reference."""
import unittest

import helpers  # noqa: F401  (puts scripts/ on the path)

from cbench_report import plan


class RoundsTest(unittest.TestCase):
    def test_iterations_grow_as_google_benchmark_grows_them(self):
        # 1 ms a run, 50 ms minimum: 1 (under a tenth: x10), 10 (a fifth: x7), 70.
        iterations, seconds = plan.rounds(0.001, 0.05)
        self.assertEqual(iterations, 81)
        self.assertAlmostEqual(seconds, 0.081)

    def test_time_outside_the_timing_is_paid_every_iteration(self):
        iterations, seconds = plan.rounds(0.00005, 0.05, unmeasured=0.002)
        self.assertGreater(iterations, 1000)
        self.assertGreater(seconds, 2.0)  # the sleeps, not the 50 ms measured
        self.assertEqual(plan.rounds(0.00005, 0.05, 0.002, fixed=100), (100, 100 * 0.00205))

    def test_a_run_longer_than_the_minimum_runs_once(self):
        self.assertEqual(plan.rounds(0.4, 0.05), (1, 0.4))


class PlanRowsTest(unittest.TestCase):
    def test_blocks_pay_start_up_warm_up_and_the_reference(self):
        names = ["pbkdf2/executor:sequential/mode:map/workers:1/process_time/real_time",
                 "pbkdf2/executor:pool/mode:map/workers:2/process_time/real_time",
                 "overhead:wake/executor:pool/workers:1/iterations:100/process_time/real_time",
                 "stream/executor:pool/mode:map/workers:1/process_time/real_time"]
        measured = {"pbkdf2/executor:sequential/mode:map/workers:1": 0.4,
                    "pbkdf2/executor:pool/mode:map/workers:2": 0.2,
                    "overhead:wake/executor:pool/workers:1": 0.00002}
        p = plan.plan_rows(names, measured, {"overhead:wake": 0.002}, 0.05)
        start = plan.START_UP_SECONDS
        self.assertAlmostEqual(p.blocks["pbkdf2"], start + (0.4 + 0.4) + (0.2 + 0.2) + 0.4)
        self.assertAlmostEqual(p.blocks["overhead:wake"], start + 100 * 0.00202 + 0.00002)
        self.assertEqual(p.unknown, ["stream/executor:pool/mode:map/workers:1"])
        self.assertAlmostEqual(p.blocks["stream"], start + 0.05 + 0.05)  # the minimum, assumed


if __name__ == "__main__":
    unittest.main()
