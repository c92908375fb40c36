"""The fixtures are what synth.py writes, and they follow docs/results-format.md."""
import json
import re
import unittest

from helpers import FIXTURES
from synth import fixture_files

from cbench_report.load import load_run

FAMILIES = {"count", "wordcount", "wordcount-http", "read", "pbkdf2", "eigen", "double", "wordfreq",
            "overhead:dispatch", "overhead:native", "overhead:wake", "overhead:lifecycle", "overhead:memory",
            "granularity"}
EXECUTORS = {"sequential", "thread", "pool", "tbb", "fork", "coro", "mpi", "asio-co_spawn"}
CONTEXT = {"cbench_version", "cbench_commit", "cbench_compiler", "cbench_flags", "cbench_native",
           "cbench_word_scan_kernel", "cbench_preset", "cbench_corpus", "cbench_corpus_checksum",
           "cbench_http_profile", "cbench_cores", "cbench_smt", "cbench_loadavg_before",
           "cbench_loaded", "cbench_versions"}
NAME = re.compile(r"^[a-z0-9:-]+(/[a-z_]+:[A-Za-z0-9_.-]+)+/process_time/real_time(_(mean|median|stddev|cv))?$")


class FixturesTest(unittest.TestCase):
    def test_fixtures_are_generated(self):
        for relative, text in fixture_files().items():
            with self.subTest(fixture=relative):
                self.assertEqual((FIXTURES / relative).read_text(encoding="utf-8"), text,
                                 "run `python3 tests/scripts/synth.py` to rewrite the fixtures")

    def test_fixtures_follow_the_contract(self):
        for relative in fixture_files():
            if relative.endswith(".trace.json"):
                continue
            with self.subTest(fixture=relative):
                doc = json.loads((FIXTURES / relative).read_text())
                self.assertLessEqual(CONTEXT, set(doc["context"]))
                self.assertTrue(all(isinstance(v, str) for k, v in doc["context"].items()
                                    if k.startswith("cbench_")))
                for row in doc["benchmarks"]:
                    self.assertRegex(row["name"], NAME)
                run = load_run(FIXTURES / relative)
                for bench in run.benchmarks.values():
                    self.assertIn(bench.name.family, FAMILIES)
                    self.assertIn(bench.name.executor, EXECUTORS)
                    if bench.name.is_experiment:
                        self.assertIn(f"cbench_task_seconds/{bench.name.family}", run.context)
                        self.assertIn(run.context[f"cbench_work_kind/{bench.name.family}"], ("cpu", "waiting"))


if __name__ == "__main__":
    unittest.main()
