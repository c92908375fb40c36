"""The Python peer (peers/python) agrees with the C++ CLI, and its runner writes JSON the report
scripts read. Small sizes, so the whole file runs in seconds.

Needs CBENCH_CLI (the `cbench` binary; ctest sets it) and NumPy; skips without them. With
CBENCH_FIXTURES set, the real corpus is checked as well as the generated one.
"""
import contextlib
import io
import json
import os
import sys
import tempfile
import unittest
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]

CLI = os.environ.get("CBENCH_CLI")
FIXTURES = os.environ.get("CBENCH_FIXTURES")
TINY = {"iterations": 1000, "eigen_size": 20, "count_size": 3, "interval": 0.002, "double_size": 10,
        "chunks": 16}
CHECKED = ["wordcount", "pbkdf2", "eigen", "double", "wordfreq", "count"]

try:
    import numpy  # noqa: F401
except ImportError:
    numpy = None


@unittest.skipUnless(CLI and numpy, "needs CBENCH_CLI and NumPy")
class AgreesWithCpp(unittest.TestCase):
    def corpora(self):
        from peers.python import corpus
        env = {k: v for k, v in os.environ.items() if k != "CBENCH_FIXTURES"}
        with mock.patch.dict(os.environ, env, clear=True):
            yield "default", corpus.load_corpus(cli=CLI), None
        if FIXTURES:
            yield "fixtures", corpus.load_corpus(FIXTURES), FIXTURES

    def test_results_equal_the_cli_and_every_executor(self):
        from peers.python import experiments as X
        from peers.python.executors import Fork, Pool, Sequential, Threads
        for label, corpus, fixtures in self.corpora():
            for workload in CHECKED:
                with self.subTest(corpus=label, workload=workload):
                    experiment = X.build(workload, corpus, TINY)
                    reference = Sequential().run(experiment.tasks)
                    env = dict(os.environ)
                    env.pop("CBENCH_FIXTURES", None)
                    with mock.patch.dict(os.environ, env, clear=True):
                        doc = X.run_cli(CLI, workload, experiment.cli_args, fixtures)
                    X.check_cli(experiment, reference, doc)
                    if "corpus" in doc:
                        self.assertEqual(doc["corpus"]["checksum"], corpus.checksum)
                    if workload in ("count", "pbkdf2", "eigen", "double"):
                        for make in (Threads, Pool, Fork):
                            if make.name not in experiment.executors:
                                continue
                            executor = make(2)
                            try:
                                for mode in ("map", "as-completed"):
                                    X.check(experiment, executor.run(experiment.tasks, mode), reference,
                                            "sequential")
                            finally:
                                executor.close()

    def test_wordcount_http_with_urllib_and_aiohttp(self):
        from peers.python import corpus as C
        from peers.python import experiments as X
        from peers.python.executors import Coro, Pool
        corpus = C.load_corpus(FIXTURES, CLI)
        with C.FixtureServer(CLI, "lan", FIXTURES) as server:
            experiment = X.build("wordcount-http", corpus, TINY, server.books_url)
            local = X.build("wordcount", corpus, TINY)
            reference = Pool(1).run(local.tasks)
            pool = Pool(4)
            try:
                X.check(experiment, pool.run(experiment.tasks, "as-completed"), reference, "wordcount")
            finally:
                pool.close()
            try:
                import aiohttp  # noqa: F401
            except ImportError:
                self.skipTest("python3-aiohttp is not installed (scripts/setup installs it)")
            X.check(experiment, Coro(4, session=True).run(experiment.async_tasks), reference, "wordcount")

    def test_a_difference_names_the_task(self):
        from peers.python import corpus as C
        from peers.python import experiments as X
        experiment = X.build("double", C.Corpus("generated", "", {}, b""), {"double_size": 3})
        with self.assertRaisesRegex(X.Mismatch, "task 'x=1'"):
            X.check(experiment, [0, 3, 4], [0, 2, 4], "sequential")

    def test_runner_json_passes_the_report_loader(self):
        from cbench_report.load import load_run
        from peers.python import bench
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "python.json"
            sizes = ",".join(f"{k}={v}" for k, v in TINY.items())
            with contextlib.redirect_stderr(io.StringIO()):
                code = bench.main(["--workloads", "double,pbkdf2,count", "--workers", "1,2",
                                   "--sizes", sizes, "-o", str(out)])
            self.assertEqual(code, 0)
            doc = json.loads(out.read_text())
            run = load_run(out)
        context = doc["context"]
        for key in ("cbench_preset", "cbench_corpus", "cbench_corpus_checksum", "cbench_cores",
                    "python_version", "numpy_blas", "cbench_task_seconds/pbkdf2",
                    "cbench_work_kind/count"):
            self.assertIn(key, context)
        self.assertEqual(context["cbench_work_kind/count"], "waiting")
        self.assertEqual(len(context["cbench_task_seconds/pbkdf2"].split(",")), 8)
        keys = set(run.benchmarks)
        self.assertIn("pbkdf2/lang:python/executor:sequential/mode:map/workers:1", keys)
        self.assertIn("pbkdf2/lang:python/executor:fork/mode:as-completed/workers:2", keys)
        self.assertIn("count/lang:python/executor:coro/mode:map/workers:2", keys)
        for benchmark in run.benchmarks.values():
            self.assertEqual(benchmark.name.lang, "python")
            self.assertTrue(benchmark.name.is_experiment)
            self.assertGreater(benchmark.median, 0)
            self.assertIn(benchmark.counter("workers"), (1.0, 2.0))
            self.assertGreater(benchmark.counter("tasks_per_second"), 0)


if __name__ == "__main__":
    unittest.main()
