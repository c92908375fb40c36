"""The report's readers of outside files, property by property (Hypothesis): any bytes, and any
JSON of roughly the right shape, give a valid result or one UnusableInput naming the file —
never another exception. The readers: Google Benchmark JSON (load_run), the journal
(journal.assemble), the trace (load_trace), the history (load_history), the counted stage's
spreads (read_spreads) and a case's name (parse_name). Skips without python3-hypothesis
(scripts/setup installs it)."""
import json
import os
import tempfile
import unittest
from pathlib import Path

# Hypothesis keeps a cache in .hypothesis/ of the working folder; not in the source tree.
os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY",
                      str(Path(tempfile.gettempdir()) / "cbench-hypothesis"))
try:
    from hypothesis import HealthCheck, example, given, settings
    from hypothesis import strategies as st
except ImportError:  # pragma: no cover - scripts/setup installs it
    raise unittest.SkipTest("python3-hypothesis is not installed")

from helpers import TempDirTest  # (and scripts/ on the path)
from cbench_report import count_gate, journal
from cbench_report.history import load_history
from cbench_report.load import UnusableInput, load_run
from cbench_report.names import parse_name
from cbench_report.trace import load_trace

# JSON values: scalars of every kind (huge and non-finite numbers too), lists and objects.
SCALARS = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True)
           | st.text(max_size=20) | st.sampled_from([10**400, -1, 0, "", "ns", "median"]))
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(st.text(max_size=12), inner, max_size=4), max_leaves=12)
ROW_FIELDS = ["name", "run_name", "real_time", "cpu_time", "time_unit", "iterations",
              "repetition_index", "run_type", "aggregate_name", "aggregate_unit", "error_occurred",
              "error_message", "skipped", "threads", "repetitions", "family_index"]
# A row: some of Google Benchmark's fields, each any value, often a plausible one.
ROWS = st.dictionaries(st.sampled_from(ROW_FIELDS),
                       VALUES | st.sampled_from(["pbkdf2/executor:pool/mode:map/workers:2", 1.5,
                                                 "ns", "aggregate", "iteration", 3]),
                       max_size=len(ROW_FIELDS))
# The same examples on every run, so that ctest fails only on a change of the code; a search for
# new ones: CBENCH_HYPOTHESIS_SEARCH=N (N examples each, drawn at random), which is how the two
# findings kept as @example below were found.
SEARCH = int(os.environ.get("CBENCH_HYPOTHESIS_SEARCH", "0") or "0")
SETTINGS = settings(max_examples=SEARCH or 300, derandomize=not SEARCH, deadline=None,
                    database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


class ReadersTakeAnyInput(TempDirTest):
    def write(self, name: str, data: bytes | str) -> Path:
        path = self.dir / name
        path.write_bytes(data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data)
        return path

    def either(self, read, path: Path):
        """read(path) gives a result, or UnusableInput whose one line names the file."""
        try:
            return read(path)
        except UnusableInput as error:
            message = str(error)
            self.assertIn(str(path.name), message)
            self.assertNotIn("\n", message.strip())
            return None

    @SETTINGS
    @given(st.binary(max_size=300))
    def test_benchmark_json_from_any_bytes(self, data):
        self.either(load_run, self.write("run.json", data))

    @SETTINGS
    @given(VALUES, st.lists(ROWS, max_size=4))
    # Found by this test: a time unit of another type than a string raised TypeError, and an
    # integer time beyond a float's range OverflowError.
    @example(None, [{"name": "pbkdf2/executor:pool/mode:map/workers:2", "real_time": 1.5,
                     "time_unit": []}])
    @example(None, [{"name": "pbkdf2/executor:pool/mode:map/workers:2", "real_time": 10**400,
                     "time_unit": "ns"}])
    def test_benchmark_json_of_any_shape(self, context, rows):
        doc = {"context": context if isinstance(context, dict) else {}, "benchmarks": rows}
        self.either(load_run, self.write("run.json", json.dumps(doc)))

    @SETTINGS
    @given(st.lists(VALUES | st.binary(max_size=40).map(lambda b: b.decode("latin-1")),
                    max_size=5),
           VALUES, VALUES)
    def test_journal_of_any_lines(self, lines, context, cases):
        header = json.dumps({"cbench_journal": 1, "context": context, "cases": cases})
        text = "\n".join([header] + [json.dumps(v) if not isinstance(v, str) else v
                                     for v in lines])
        self.either(journal.assemble, self.write("run.journal.jsonl", text))

    @SETTINGS
    @given(st.binary(max_size=300))
    def test_journal_from_any_bytes(self, data):
        self.either(journal.assemble, self.write("run.journal.jsonl", data))

    @SETTINGS
    @given(st.lists(st.dictionaries(st.sampled_from(["name", "tasks"]),
                                    VALUES | st.lists(st.dictionaries(
                                        st.sampled_from(["task", "worker", "start", "end"]),
                                        VALUES), max_size=3)), max_size=3))
    def test_trace_of_any_shape(self, doc):
        self.either(load_trace, self.write("run.trace.json", json.dumps(doc)))

    @SETTINGS
    @given(st.binary(max_size=200))
    def test_trace_from_any_bytes(self, data):
        self.either(load_trace, self.write("run.trace.json", data))

    @SETTINGS
    @given(st.lists(VALUES, min_size=1, max_size=3))
    def test_history_of_any_entries(self, entries):
        history = self.dir / "history"
        history.mkdir(exist_ok=True)
        for old in history.glob("*.json"):
            old.unlink()
        for i, entry in enumerate(entries):
            (history / f"entry-{i}.json").write_text(json.dumps(entry))
        try:
            load_history(history)
        except UnusableInput as error:
            self.assertIn("entry-", str(error))

    @SETTINGS
    @given(st.binary(max_size=200) | VALUES.map(lambda v: json.dumps(v).encode()))
    def test_spreads_from_any_bytes(self, data):
        self.either(count_gate.read_spreads, self.write("count-spread.json", data))

    @SETTINGS
    @given(st.text(max_size=80), st.none() | st.text(max_size=8))
    def test_any_name(self, name, aggregate):
        try:
            parse_name(name, aggregate)
        except UnusableInput:
            pass


if __name__ == "__main__":
    unittest.main()
