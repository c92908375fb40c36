"""The command line itself: --help everywhere, usage mistakes, and the scripts/report launcher."""
import shutil
import subprocess
import unittest

from helpers import FIXTURES, SCRIPTS, run_cli


class CliTest(unittest.TestCase):
    def test_help(self):
        for command in ([], ["load"], ["plot"], ["report"], ["compare"], ["history"]):
            with self.subTest(command=command):
                result = run_cli(*command, "--help")
                self.assertEqual(result.returncode, 0, result.stderr)
                self.assertIn("usage: report", result.stdout)

    def test_usage_mistakes_exit_2(self):
        for args in (["compare", FIXTURES / "baseline.json"],
                     ["compare", FIXTURES / "baseline.json", FIXTURES / "rerun.json", "--builds", "a", "b"],
                     ["load", FIXTURES / "hand.json", "--", "--benchmark_min_time=1"],
                     ["compare", FIXTURES / "baseline.json", FIXTURES / "rerun.json", "--alpha", "2"],
                     ["frobnicate"]):
            with self.subTest(args=args):
                result = run_cli(*args)
                self.assertEqual(result.returncode, 2, result.stdout + result.stderr)
                self.assertNotIn("Traceback", result.stderr)

    def test_load_lists_benchmarks(self):
        result = run_cli("load", FIXTURES / "hand.json")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("19 benchmarks, 3–3 repetitions", result.stdout)
        self.assertIn("wordcount-http/executor:coro/mode:map/workers:4", result.stdout)

    @unittest.skipUnless(shutil.which("bash"), "needs bash")
    def test_launcher(self):
        result = subprocess.run([str(SCRIPTS / "report"), "load", str(FIXTURES / "hand.json")],
                                capture_output=True, text=True, timeout=60)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("19 benchmarks", result.stdout)


if __name__ == "__main__":
    unittest.main()
