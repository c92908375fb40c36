"""The regression gate on seeded synthetic runs (fixtures baseline.json, rerun.json: the same
run twice with 1% noise, 5 repetitions; three_reps.json: 3 repetitions)."""
import json
import unittest

from helpers import FIXTURES, TempDirTest, run_cli, run_cli_many, write_json
from synth import slowed

from cbench_report import compare
from cbench_report.load import load_run
from cbench_report.stats import smallest_two_sided_p

BASE, RERUN, THREE = FIXTURES / "baseline.json", FIXTURES / "rerun.json", FIXTURES / "three_reps.json"


def doc(path):
    return json.loads(path.read_text())


class GateTest(TempDirTest):
    def test_rerun_with_small_noise_is_not_flagged(self):
        result = compare.compare_runs(load_run(BASE), load_run(RERUN))
        self.assertEqual(len(result.comparisons), 16)
        self.assertEqual({c.verdict for c in result.comparisons}, {compare.SAME})
        cli = run_cli("compare", BASE, RERUN)
        self.assertEqual(cli.returncode, 0, cli.stderr)
        self.assertIn("No regression in 16 benchmark(s)", cli.stdout)

    def test_twenty_percent_slowdown_is_flagged(self):
        slow = write_json(self.dir / "slow.json", slowed(doc(RERUN), 1.2))
        result = compare.compare_runs(load_run(BASE), load_run(slow))
        self.assertEqual({c.verdict for c in result.comparisons}, {compare.REGRESSION})
        for c in result.comparisons:
            self.assertAlmostEqual(c.change, 0.2, delta=0.04)
            self.assertAlmostEqual(c.p_value, 2 / 252)  # 5 vs 5, fully separated
        cli, markdown = run_cli_many([("compare", BASE, slow), ("compare", BASE, slow, "--markdown")])
        self.assertEqual(cli.returncode, 1, cli.stderr)
        self.assertIn("16 regression(s)", cli.stdout)
        self.assertEqual(markdown.returncode, 1)
        self.assertIn("| `pbkdf2/executor:pool/mode:map/workers:2` |", markdown.stdout)
        self.assertIn("**regression**", markdown.stdout)

    def test_one_slow_benchmark_among_many(self):
        victim = "pbkdf2/executor:pool/mode:map/workers:2/"
        slow = write_json(self.dir / "slow.json", slowed(doc(RERUN), 1.2, lambda n: n.startswith(victim)))
        result = compare.compare_runs(load_run(BASE), load_run(slow))
        self.assertEqual([c.key for c in result.regressions], [victim.rstrip("/")])

    def test_improvement_is_symmetric(self):
        fast = write_json(self.dir / "fast.json", slowed(doc(RERUN), 1 / 1.2))
        result = compare.compare_runs(load_run(BASE), load_run(fast))
        self.assertEqual({c.verdict for c in result.comparisons}, {compare.IMPROVEMENT})
        self.assertFalse(result.regressions)

    def test_threshold(self):
        slow = write_json(self.dir / "slow.json", slowed(doc(RERUN), 1.2))
        self.assertEqual(run_cli("compare", BASE, slow, "--threshold", "25%").returncode, 0)
        self.assertFalse(compare.compare_runs(load_run(BASE), load_run(slow), threshold=0.25).regressions)
        self.assertTrue(compare.compare_runs(load_run(BASE), load_run(slow), threshold=0.10).regressions)
        self.assertEqual((compare.parse_threshold("5%"), compare.parse_threshold("10")), (0.05, 0.1))
        self.assertRaises(ValueError, compare.parse_threshold, "lots")

    def test_too_few_repetitions(self):
        slow = write_json(self.dir / "slow3.json", slowed(doc(THREE), 1.5))
        result = compare.compare_runs(load_run(THREE), load_run(slow))
        self.assertEqual({c.verdict for c in result.comparisons}, {compare.TOO_FEW})
        cli = run_cli("compare", THREE, slow)
        self.assertEqual(cli.returncode, 0, cli.stderr)  # no verdict is no regression
        self.assertIn("too few repetitions", cli.stdout)
        self.assertIn("never give p < 0.1", cli.stdout)
        self.assertEqual(smallest_two_sided_p(3, 3), 0.1)
        self.assertAlmostEqual(smallest_two_sided_p(5, 5), 2 / 252)

    def test_benchmarks_in_one_file_only_are_listed(self):
        base = doc(BASE)
        base["benchmarks"] = [r for r in base["benchmarks"] if "executor:coro" not in r["name"]]
        new = doc(RERUN)
        new["benchmarks"] = [r for r in new["benchmarks"] if "mode:cold" not in r["name"]]
        result = compare.compare_runs(load_run(write_json(self.dir / "b.json", base)),
                                      load_run(write_json(self.dir / "n.json", new)))
        self.assertEqual(len(result.only_in_base), 3)
        self.assertEqual(len(result.only_in_new), 3)
        cli = run_cli("compare", self.dir / "b.json", self.dir / "n.json")
        self.assertEqual(cli.returncode, 0, cli.stderr)
        self.assertIn("Only in the baseline (3): pbkdf2/executor:pool/mode:cold/workers:1", cli.stdout)
        self.assertIn("Only in the new run (3): pbkdf2/executor:coro/mode:map/workers:1", cli.stdout)

    def test_names_match_across_google_benchmark_suffixes(self):
        # A run made with a per-case Repetitions(5) carries "/repeats:5" in every name.
        new = doc(RERUN)
        for row in new["benchmarks"]:
            row["name"] = row["name"].replace("/process_time", "/repeats:5/process_time")
        result = compare.compare_runs(load_run(BASE), load_run(write_json(self.dir / "r.json", new)))
        self.assertEqual(len(result.comparisons), 16)
        self.assertEqual(result.only_in_new, [])


if __name__ == "__main__":
    unittest.main()
