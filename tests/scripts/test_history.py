"""history: append runs keyed by commit and date, then plot one benchmark over commits."""
import json
import tempfile
import unittest
import xml.etree.ElementTree as ElementTree
from pathlib import Path

from helpers import FIXTURES, run_cli, write_json
from synth import slowed

RUN = FIXTURES / "run" / "results.json"
NAME = "pbkdf2/executor:pool/mode:map/workers:2"


class HistoryTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = Path(self.tmp.name)
        self.history = self.dir / "history"

    def tearDown(self):
        self.tmp.cleanup()

    def append(self, path):
        result = run_cli("history", path, "--dir", self.history)
        self.assertEqual(result.returncode, 0, result.stderr)
        return Path(result.stdout.strip())

    def test_append_then_plot(self):
        first = self.append(RUN)
        self.assertEqual(first.name, "20261120T100000Z-0123456789ab.json")
        self.assertEqual(self.append(RUN), first)  # the same run twice is stored once
        later = json.loads(RUN.read_text())
        later = slowed(later, 1.1)
        later["context"].update(cbench_commit="fedcba987654", date="2026-11-21T09:30:00+01:00")
        second = self.append(write_json(self.dir / "later.json", later))
        self.assertEqual(second.name, "20261121T083000Z-fedcba987654.json")
        self.assertEqual(len(list(self.history.glob("*.json"))), 2)
        entry = json.loads(second.read_text())
        self.assertEqual(entry["commit"], "fedcba987654")
        self.assertEqual(len(entry["benchmarks"][NAME]["real_times"]), 3)

        out = self.dir / "plots"
        # The full Google Benchmark name works as well as ours.
        result = run_cli("history", "--plot", NAME + "/process_time/real_time", "--dir", self.history,
                         "-o", out)
        self.assertEqual(result.returncode, 0, result.stderr)
        stem = "history-pbkdf2-executor-pool-mode-map-workers-2"
        self.assertTrue((out / f"{stem}.png").read_bytes().startswith(b"\x89PNG"))
        self.assertTrue(ElementTree.parse(out / f"{stem}.svg").getroot().tag.endswith("svg"))

    def test_unknown_benchmark_or_folder(self):
        self.append(RUN)
        result = run_cli("history", "--plot", "nope/executor:x/workers:1", "--dir", self.history)
        self.assertEqual(result.returncode, 2)
        self.assertIn("no entry has the benchmark nope/executor:x/workers:1", result.stderr)
        result = run_cli("history", "--plot", NAME, "--dir", self.dir / "missing")
        self.assertEqual(result.returncode, 2)

    def test_needs_a_run_or_plot(self):
        self.assertEqual(run_cli("history", "--dir", self.history).returncode, 2)


if __name__ == "__main__":
    unittest.main()
