"""The command line itself: --help everywhere, usage mistakes, and the scripts/report launcher."""
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path

from helpers import FIXTURES, SCRIPTS, run_cli, write_json
from synth import context, rows


class CliTest(unittest.TestCase):
    def test_help(self):
        for command in ([], ["load"], ["plot"], ["report"], ["compare"], ["history"],
                        ["failures"]):
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

    def test_failures_names_the_failed_cases_only(self):
        def failed(name, message):
            row = rows(name, [0.01], aggregates=False)[0]
            return {**row, "error_occurred": True, "error_message": message}

        clean = rows("pbkdf2/executor:pool/mode:map/workers:2", [0.01, 0.011])
        by_design = [failed("fib/executor:pool/mode:blocking/workers:2", "deadlock: all 2 workers "
                            "wait for children"),
                     failed("fib/executor:thread/mode:not-supported/workers:1", "not supported: "
                            "thread has no nested fork-join")]
        wrong = failed("pbkdf2/executor:fork/mode:map/workers:2", "1 of 8 tasks differ from the "
                       "sequential reference")
        with tempfile.TemporaryDirectory() as tmp:
            ok = write_json(Path(tmp) / "ok.json", {"context": context(),
                                                    "benchmarks": clean + by_design})
            bad = write_json(Path(tmp) / "bad.json", {"context": context(),
                                                      "benchmarks": clean + by_design + [wrong]})
            result = run_cli("failures", ok)
            self.assertEqual((result.returncode, result.stdout), (0, "0 of 3 cases failed\n"),
                             result.stderr)
            result = run_cli("failures", bad)
            self.assertEqual(result.returncode, 1, result.stderr)
            self.assertEqual(result.stdout.splitlines(),
                             ["pbkdf2/executor:fork/mode:map/workers:2: 1 of 8 tasks differ from "
                              "the sequential reference", "1 of 4 cases failed"])

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
