"""C++ against the Python peer (languages.py): the table per workload and the sentence the
numbers choose."""
import json
import tempfile
import unittest
from pathlib import Path

from helpers import FIXTURES, run_cli, write_json

from cbench_report.languages import language_tables
from cbench_report.load import load_run
from cbench_report.markdown import render_summary
from cbench_report.scaling import Point, experiment_points


def point(workload, executor, lang, workers, seconds, speedup, mode="map"):
    return Point(key=f"{workload}/{lang}/{executor}/{mode}/{workers}", workload=workload,
                 executor=executor, mode=mode, lang=lang, workers=workers, seconds=seconds,
                 seconds_ci=(seconds, seconds), repetitions=1, speedup=speedup)


def workload(name, cpp_seq, cpp_thread, py_seq, py_thread, py_fork=None):
    """Sequential and best-thread rows in each language (W = 2), speedups from the times."""
    rows = [point(name, "sequential", "cpp", 1, cpp_seq, 1.0),
            point(name, "thread", "cpp", 2, cpp_thread, cpp_seq / cpp_thread),
            point(name, "thread", "cpp", 4, cpp_thread * 1.1, cpp_seq / (cpp_thread * 1.1)),
            point(name, "sequential", "python", 1, py_seq, 1.0),
            point(name, "thread", "python", 2, py_thread, py_seq / py_thread)]
    if py_fork is not None:
        rows.append(point(name, "fork", "python", 2, py_fork, py_seq / py_fork))
    return rows


class LanguageTableTest(unittest.TestCase):
    def tables(self, points, kinds):
        context = {f"cbench_work_kind/{w}": k for w, k in kinds.items()}
        return {t.workload: t for t in language_tables(points, context)}

    def test_rows_are_best_time_per_model_and_the_ratio(self):
        points = workload("wordcount", 0.006, 0.0031, 0.072, 0.097, 0.064)
        points.append(point("wordcount", "pool", "cpp", 2, 0.0040, 1.5))
        points.append(point("wordcount", "thread", "cpp", 1, 0.0001, 60.0, mode="cold"))  # left out
        t = self.tables(points, {"wordcount": "cpu"})["wordcount"]
        rows = {r[0]: r for r in t.rows}
        self.assertEqual(list(rows), ["sequential", "thread", "pool", "fork"])
        self.assertEqual(rows["thread"], ["thread", "3.1 ms (2)", "97 ms (2)", "31.29×"])
        self.assertEqual(rows["pool"], ["pool", "4 ms (2)", "–", "–"])
        self.assertEqual(rows["sequential"][3], "12.00×")

    def test_gil_bound_threads(self):
        t = self.tables(workload("wordcount", 0.006, 0.0031, 0.072, 0.097, 0.064),
                        {"wordcount": "cpu"})["wordcount"]
        self.assertTrue(t.sentence.startswith("The GIL holds Python's threads to one core (0.74×)"),
                        t.sentence)
        self.assertIn("its processes reach 1.12×", t.sentence)
        self.assertIn("on one core C++ is 12.0× faster", t.sentence)

    def test_same_native_code(self):
        scaling = self.tables(workload("pbkdf2", 0.376, 0.19, 0.40, 0.21), {"pbkdf2": "cpu"})["pbkdf2"]
        self.assertTrue(scaling.sentence.startswith("Both languages spend the time in the same native code"))
        self.assertIn("the library releases the GIL", scaling.sentence)
        held = self.tables(workload("eigen", 0.128, 0.066, 0.15, 0.20), {"eigen": "cpu"})["eigen"]
        self.assertIn("Python's threads do not scale", held.sentence)

    def test_the_native_code_of_each_side_is_named_where_both_runs_say_it(self):
        points = workload("eigen", 1.2, 0.7, 1.3, 1.4)
        context = {"cbench_work_kind/eigen": "cpu",
                   "cbench_eigen_solver": "LAPACKE dgees over LAPACK 3.11.0 (lapack/liblapack.so.3.11.0)",
                   "numpy_blas": "/usr/lib/lapack/liblapack.so.3.11.0"}
        t = {t.workload: t for t in language_tables(points, context)}["eigen"]
        self.assertTrue(t.sentence.endswith(
            " C++ solves with LAPACKE dgees over LAPACK 3.11.0 (lapack/liblapack.so.3.11.0); Python "
            "with NumPy's eigvals (dgeev) over /usr/lib/lapack/liblapack.so.3.11.0."), t.sentence)
        del context["numpy_blas"]
        t = {t.workload: t for t in language_tables(points, context)}["eigen"]
        self.assertNotIn("solves with", t.sentence)

    def test_waiting_work(self):
        equal = self.tables(workload("count", 0.102, 0.051, 0.102, 0.052), {"count": "waiting"})
        self.assertTrue(equal["count"].sentence.startswith("Waiting work: a wait is a wait"))
        apart = self.tables(workload("http", 0.057, 0.020, 0.18, 0.13), {"http": "waiting"})
        self.assertIn("Python's threads overlap less (1.38× against C++'s 2.85×)", apart["http"].sentence)

    def test_too_small_to_share(self):
        t = self.tables(workload("double", 5e-6, 5e-4, 3.5e-6, 2e-3), {"double": "cpu"})["double"]
        self.assertTrue(t.sentence.startswith("The task is too small to share out"))

    def test_no_python_rows_no_table(self):
        points = [p for p in workload("pbkdf2", 1, 0.5, 1, 0.5) if p.lang == "cpp"]
        self.assertEqual(language_tables(points, {}), [])

    def test_summary_of_a_run_with_a_peer(self):
        run = load_run(FIXTURES / "run" / "results.json")
        summary = render_summary(run, experiment_points(run), [])
        self.assertIn("### C++ and Python", summary)
        self.assertIn("#### pbkdf2", summary)
        self.assertIn("| model | C++ best (W) | Python best (W) | Python / C++ |", summary)
        # The one-glance table is C++ only: the peer has its own.
        fastest = summary.split("### Fastest per workload")[1].split("<details>")[0]
        self.assertNotIn("Python", fastest)


class MergePeerTest(unittest.TestCase):
    def setUp(self):
        d = tempfile.TemporaryDirectory()
        self.addCleanup(d.cleanup)
        self.dir = Path(d.name)

    def run_of(self, name, checksum, **context):
        return write_json(self.dir / name, {
            "context": {"cbench_corpus_checksum": checksum, **context},
            "benchmarks": [{"name": f"{name}/executor:sequential/mode:map/workers:1",
                            "run_type": "iteration", "real_time": 1.0}]})

    def test_the_peers_rows_join_the_run_and_the_cpp_context_wins(self):
        cpp = self.run_of("cpp", "abc", num_cpus=2)
        peer = self.run_of("python", "abc", num_cpus=8, python_version="3.11")
        result = run_cli("merge-peer", cpp, peer)
        self.assertEqual((result.returncode, result.stdout.strip()), (0, "1"), result.stderr)
        doc = json.loads(cpp.read_text())
        self.assertEqual(len(doc["benchmarks"]), 2)
        self.assertEqual((doc["context"]["num_cpus"], doc["context"]["python_version"]), (2, "3.11"))

    def test_a_peer_of_another_corpus_is_refused_and_the_run_left_whole(self):
        cpp = self.run_of("cpp", "abc")
        before = cpp.read_text()
        result = run_cli("merge-peer", cpp, self.run_of("python", "other"))
        self.assertEqual(result.returncode, 2)
        self.assertIn("the Python peer read another corpus", result.stderr)
        self.assertEqual(cpp.read_text(), before)
        result = run_cli("merge-peer", cpp, self.dir / "missing.json")
        self.assertEqual(result.returncode, 2)
        self.assertIn("missing.json", result.stderr)


if __name__ == "__main__":
    unittest.main()
