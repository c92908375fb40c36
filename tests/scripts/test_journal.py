"""A run's journal and the results.json it stands for (scripts/cbench_report/journal.py)."""
import json
import tempfile
import unittest
from pathlib import Path

import helpers  # noqa: F401  (puts scripts/ on the path)
from helpers import run_cli
from cbench_report.journal import assemble, case_name, to_measure_again, write_assembled
from cbench_report.names import with_param
from cbench_report.load import UnusableInput, load_run


def header(cases, **context):
    return json.dumps({"cbench_journal": 1, "cases": cases,
                       "context": {"date": "2026-12-01", "num_cpus": 2, **context}})


def rows(name, *times):
    full = name + "/min_time:0.050/process_time/real_time"
    return json.dumps([{"name": full, "run_name": full, "run_type": "iteration",
                        "repetitions": len(times), "repetition_index": i, "threads": 1,
                        "iterations": 10, "real_time": t, "cpu_time": t, "time_unit": "us"}
                       for i, t in enumerate(times)])


def watched(name, slowdown, time=1.0):
    """A case's rows with the host watch's counters: disturbed beyond 1.25."""
    value = json.loads(rows(name, time))
    for row in value:
        row["host_slowdown"], row["host_disturbed"] = slowdown, int(slowdown > 1.25)
    return json.dumps(value)


class JournalTest(unittest.TestCase):
    def test_a_case_measured_again_keeps_its_quietest_measurement(self):
        a, b = "a/executor:x/workers:1", "b/executor:x/workers:1"
        path = self.journal(header(2), watched(a, 2.0, 9.0), watched(b, 1.0, 1.0),
                            header(2), watched(a, 1.1, 5.0))
        result = assemble(path)
        self.assertEqual(result.finished, 2)
        self.assertEqual([r["real_time"] for r in result.document["benchmarks"]], [5.0, 1.0])
        self.assertEqual(result.document["context"]["cbench_remeasured"], "1")
        self.assertEqual(result.document["context"]["cbench_never_clean"], "0")
        self.assertEqual(to_measure_again(path), [])

    def test_a_case_that_never_ran_clean_is_measured_at_most_three_times(self):
        a = "a/executor:x/workers:1"
        path = self.journal(header(1), watched(a, 3.0, 9.0))
        self.assertEqual(to_measure_again(path), [a])
        path = self.journal(header(1), watched(a, 3.0, 9.0), watched(a, 2.0, 7.0))
        self.assertEqual(to_measure_again(path), [a])
        path = self.journal(header(1), watched(a, 3.0, 9.0), watched(a, 2.0, 7.0),
                            watched(a, 2.5, 8.0))
        self.assertEqual(to_measure_again(path), [])
        result = assemble(path)
        self.assertEqual([r["real_time"] for r in result.document["benchmarks"]], [7.0])
        self.assertEqual(result.document["context"]["cbench_never_clean"], "1")

    def test_a_sequential_reference_is_measured_three_times_and_keeps_its_fastest_clean(self):
        ref, row = "pbkdf2/executor:sequential/mode:map/workers:1", "pbkdf2/executor:pool/mode:map/workers:1"
        path = self.journal(header(2), watched(ref, 1.0, 9.0), watched(row, 1.0, 8.0))
        self.assertEqual(to_measure_again(path), [ref])  # clean, but a reference
        path = self.journal(header(2), watched(ref, 1.0, 9.0), watched(row, 1.0, 8.0),
                            watched(ref, 3.0, 6.0), watched(ref, 1.1, 8.5))
        self.assertEqual(to_measure_again(path), [])
        result = assemble(path)
        # 6.0 was measured on a disturbed host: the fastest clean one is 8.5.
        self.assertEqual([r["real_time"] for r in result.document["benchmarks"]], [8.5, 8.0])
        context = result.document["context"]
        self.assertEqual((context["cbench_remeasured"], context["cbench_references_measured"],
                          context["cbench_never_clean"]), ("0", "1", "0"))

    def test_a_reference_that_never_ran_clean_keeps_its_quietest(self):
        ref = "stream/executor:sequential/mode:map/workers:1"
        path = self.journal(header(1), watched(ref, 2.0, 5.0), watched(ref, 1.5, 7.0),
                            watched(ref, 1.8, 6.0))
        result = assemble(path)
        self.assertEqual([r["real_time"] for r in result.document["benchmarks"]], [7.0])
        self.assertEqual(result.document["context"]["cbench_never_clean"], "1")

    def test_only_the_experiments_own_reference_rows_are_measured_again_by_rule(self):
        for name in ("overhead:dispatch/executor:sequential/workers:1",
                     "pbkdf2/executor:sequential/lang:python/mode:map/workers:1",
                     "fib/executor:sequential/mode:fork-join/workers:1"):
            self.assertEqual(to_measure_again(self.journal(header(1), watched(name, 1.0))), [],
                             name)

    def journal(self, *lines):
        d = tempfile.TemporaryDirectory()
        self.addCleanup(d.cleanup)
        path = Path(d.name) / "results.journal.jsonl"
        path.write_text("\n".join(lines) + "\n")
        return path

    def test_case_names_drop_google_benchmarks_segments(self):
        self.assertEqual(case_name("overhead:dispatch/executor:pool/workers:2/min_time:0.050/"
                                   "process_time/real_time"), "overhead:dispatch/executor:pool/workers:2")
        self.assertEqual(case_name("pbkdf2/executor:tbb/mode:map/workers:4/repeats:3"),
                         "pbkdf2/executor:tbb/mode:map/workers:4")

    def test_every_part_in_order_a_cut_line_left_out(self):
        path = self.journal(header(3, cbench_preset="quick"), rows("a/executor:x/workers:1", 1, 2),
                            header(1, cbench_preset="quick"), rows("b/executor:x/workers:1", 3),
                            '[{"name": "c/executor:x/wor')
        result = assemble(path)
        self.assertEqual((result.finished, result.cases, result.parts, result.cut_lines),
                         (2, 3, 2, 1))
        self.assertEqual([r["real_time"] for r in result.document["benchmarks"]], [1, 2, 3])
        self.assertEqual(result.document["context"]["cbench_parts"], "2")
        out = path.with_name("results.json")
        write_assembled(path, out)
        run = load_run(out)  # what the report reads
        self.assertEqual(sorted(run.benchmarks), ["a/executor:x/workers:1", "b/executor:x/workers:1"])

    def test_link_journals_merge_into_one_run_named_by_link(self):
        d = self.journal(header(1)).parent
        gb = "eigen/executor:mpi/mode:map/workers:2/min_time:0.050/process_time/real_time"
        for link, time in (("unshaped", 1.0), ("100mbit", 2.0)):
            row = {"name": gb + "_median", "run_name": gb, "run_type": "aggregate",
                   "aggregate_name": "median", "real_time": time}
            (d / f"results.link-{link}.journal.jsonl").write_text(
                header(1) + "\n" + json.dumps([row]) + "\n" + '[{"name": "cut')
        result = run_cli("merge-links", d, "unshaped,100mbit,absent")
        self.assertEqual((result.returncode, result.stdout.strip()), (0, "2"), result.stderr)
        assembled = assemble(d / "results.journal.jsonl")
        self.assertEqual(assembled.cases, 2)
        names = [r["name"] for r in assembled.document["benchmarks"]]
        self.assertEqual(names, [
            "eigen/executor:mpi/mode:map/workers:2/link:unshaped/min_time:0.050/process_time/real_time_median",
            "eigen/executor:mpi/mode:map/workers:2/link:100mbit/min_time:0.050/process_time/real_time_median"])

    def test_one_name_grammar(self):
        self.assertEqual(with_param("granularity/executor:mpi/workers:2/task_us:1/real_time", "link",
                                    "x"),
                         "granularity/executor:mpi/workers:2/task_us:1/link:x/real_time")
        self.assertEqual(with_param("a/executor:x", "link", "y"), "a/executor:x/link:y")

    def test_escaped_control_bytes_and_bytes_that_are_not_utf8_are_kept(self):
        line = rows("a/executor:x/workers:1", 1).replace('"iteration"', '"iteration", '
                                                          '"error_message": "bad \\u0001 book"')
        path = self.journal(header(1), line)
        path.write_bytes(path.read_bytes().replace(b"bad", b"b\xffd"))
        result = assemble(path)
        self.assertEqual((result.finished, result.cut_lines), (1, 0))
        self.assertIn("\x01", result.document["benchmarks"][0]["error_message"])

    def test_a_file_without_a_header_is_unusable(self):
        with self.assertRaises(UnusableInput):
            assemble(self.journal(rows("a/executor:x/workers:1", 1)))
        with self.assertRaises(UnusableInput):
            assemble(Path("/nonexistent/results.journal.jsonl"))


if __name__ == "__main__":
    unittest.main()
