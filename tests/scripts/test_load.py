"""Reading runs: names, units, repetitions, aggregates, and one clear line for a bad file."""
import json
import tempfile
import unittest
from pathlib import Path

from helpers import FIXTURES, run_cli, run_cli_many, write_json
from synth import context, rows

from cbench_report.load import UnusableInput, load_run
from cbench_report.names import parse_name


class NamesTest(unittest.TestCase):
    def test_google_benchmark_segments_are_stripped(self):
        name = parse_name("pbkdf2/executor:pool/mode:map/workers:8/min_time:0.200/repeats:5"
                          "/process_time/real_time")
        self.assertEqual(name.key, "pbkdf2/executor:pool/mode:map/workers:8")
        self.assertEqual(name.family, "pbkdf2")
        self.assertEqual((name.executor, name.mode, name.lang, name.int_param("workers")),
                         ("pool", "map", "cpp", 8))
        self.assertTrue(name.is_experiment)

    def test_aggregate_suffix(self):
        name = parse_name("pbkdf2/executor:pool/mode:map/workers:8/process_time/real_time_median",
                          "median")
        self.assertEqual(name.key, "pbkdf2/executor:pool/mode:map/workers:8")
        self.assertEqual(name.aggregate, "median")

    def test_overhead_family_and_python_peer(self):
        name = parse_name("overhead:dispatch/executor:asio-co_spawn/workers:1/process_time/real_time")
        self.assertEqual((name.family, name.executor), ("overhead:dispatch", "asio-co_spawn"))
        self.assertFalse(name.is_experiment)
        peer = parse_name("pbkdf2/lang:python/executor:pool/mode:as-completed/workers:4")
        self.assertEqual((peer.lang, peer.mode, peer.family), ("python", "as-completed", "pbkdf2"))


class LoadTest(unittest.TestCase):
    def test_units_become_seconds(self):
        run = load_run(FIXTURES / "hand.json")
        self.assertAlmostEqual(run.benchmarks["pbkdf2/executor:sequential/mode:map/workers:1"].median, 16.0)
        self.assertAlmostEqual(run.benchmarks["wordcount-http/executor:coro/mode:map/workers:4"].median, 6.25)
        self.assertAlmostEqual(run.benchmarks["wordcount-http/executor:coro/mode:map/workers:8"].median, 5.0)

    def test_repetitions_grouped_and_aggregates_recognised(self):
        run = load_run(FIXTURES / "hand.json")
        bench = run.benchmarks["pbkdf2/executor:pool/mode:map/workers:2"]
        self.assertEqual(bench.real_times, (9.9, 10.0, 10.2))
        self.assertEqual(set(bench.aggregates), {"mean", "median", "stddev", "cv"})
        self.assertAlmostEqual(bench.aggregates["median"], 10.0)
        self.assertLess(bench.aggregates["cv"], 0.05)  # a fraction, not scaled like a time
        self.assertEqual(len(run.benchmarks), 19)  # aggregate rows are no benchmarks of their own

    def test_counters_and_context(self):
        run = load_run(FIXTURES / "run" / "results.json")
        bench = run.benchmarks["overhead:dispatch/executor:pool/workers:2"]
        self.assertAlmostEqual(bench.counter("ns_per_task"), 500.0)
        self.assertEqual(run.ctx("cbench_cores"), "2")

    def test_failed_rows_are_kept_apart(self):
        doc = {"context": context(), "benchmarks": rows("pbkdf2/executor:pool/mode:map/workers:2", [1.0, 1.1])}
        doc["benchmarks"][1].update(error_occurred=True, error_message="Gulliver: result differs")
        with tempfile.TemporaryDirectory() as tmp:
            run = load_run(write_json(Path(tmp) / "r.json", doc))
        bench = run.benchmarks["pbkdf2/executor:pool/mode:map/workers:2"]
        self.assertEqual(bench.real_times, (1.0,))
        self.assertEqual(bench.errors, ("Gulliver: result differs",))

    def test_a_failed_case_is_reported_with_why(self):
        from cbench_report.tables import warnings
        why = ('range 0: result differs from the sequential reference (got 1998, expected 303): '
               'task kind "primes-pitfall" under fork with 2 workers, 4 of 4 tasks differ')
        doc = {"context": context(),
               "benchmarks": rows("primes-pitfall/executor:fork/mode:map/workers:2", [1.0])
               + rows("primes-pitfall/executor:pool/mode:map/workers:2", [1.0])}
        doc["benchmarks"][0].update(error_occurred=True, error_message=why)
        with tempfile.TemporaryDirectory() as tmp:
            run = load_run(write_json(Path(tmp) / "r.json", doc))
        failed = [w for w in warnings(run) if "failed" in w]
        self.assertEqual(failed, ["1 case(s) failed: primes-pitfall/executor:fork/mode:map/workers:2"
                                  f" ({why})"])

    def test_row_problems_name_the_row(self):
        doc = {"context": {}, "benchmarks": [{"name": "x/executor:a/workers:1", "real_time": 1,
                                              "time_unit": "fortnights"}]}
        with tempfile.TemporaryDirectory() as tmp:
            with self.assertRaisesRegex(UnusableInput, r"benchmarks\[0\].*time_unit"):
                load_run(write_json(Path(tmp) / "r.json", doc))
            del doc["benchmarks"][0]["real_time"]
            doc["benchmarks"][0]["time_unit"] = "ms"
            with self.assertRaisesRegex(UnusableInput, "real_time"):
                load_run(write_json(Path(tmp) / "r.json", doc))


class UnusableFilesTest(unittest.TestCase):
    """Malformed JSON, a JSON that is not Google Benchmark output, an empty file: exit 2 and one
    line naming the file and the problem, from every subcommand that reads a run."""

    CASES = {"malformed.json": "malformed JSON", "not_benchmark.json": "not Google Benchmark output",
             "empty.json": "empty"}

    def check(self, result, path, problem):
        self.assertEqual(result.returncode, 2, result.stderr)
        lines = result.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, result.stderr)
        self.assertIn(str(path), lines[0])
        self.assertIn(problem, lines[0])
        self.assertNotIn("Traceback", result.stderr)

    def test_every_subcommand(self):
        with tempfile.TemporaryDirectory() as tmp:
            good = FIXTURES / "baseline.json"
            cases = []
            for file, problem in self.CASES.items():
                path = FIXTURES / "invalid" / file
                for args in (["load", path], ["plot", path, "-o", tmp], ["report", path, "-o", tmp],
                             ["compare", good, path], ["compare", path, good],
                             ["history", path, "--dir", tmp]):
                    cases.append((args, path, problem))
            for (args, path, problem), result in zip(cases, run_cli_many([c[0] for c in cases])):
                with self.subTest(args=args):
                    self.check(result, path, problem)

    def test_missing_file_and_empty_list(self):
        with tempfile.TemporaryDirectory() as tmp:
            missing = Path(tmp) / "nope.json"
            self.check(run_cli("load", missing), missing, "cannot read")
            empty_list = write_json(Path(tmp) / "none.json", {"context": {}, "benchmarks": []})
            self.check(run_cli("load", empty_list), empty_list, "no benchmark rows")
            array = Path(tmp) / "array.json"
            array.write_text(json.dumps([1, 2]))
            self.check(run_cli("load", array), array, "not Google Benchmark output")


if __name__ == "__main__":
    unittest.main()
