"""history: append runs keyed by commit and date, then plot one benchmark over commits."""
import json
import math
import random
import tempfile
import unittest
import xml.etree.ElementTree as ElementTree
from pathlib import Path

from helpers import FIXTURES, TempDirTest, run_cli, write_json
from synth import slowed

from cbench_report.history import change_points

RUN = FIXTURES / "run" / "results.json"
NAME = "pbkdf2/executor:pool/mode:map/workers:2"


class HistoryTest(TempDirTest):
    def setUp(self):
        super().setUp()
        self.history = self.dir / "history"

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


def noisy(rng, median, n, step_at=None, step=1.0):
    """``n`` medians with 3% noise and now and then a slow run (10-25%), stepping at ``step_at``."""
    out = []
    for i in range(n):
        value = median * (step if step_at is not None and i >= step_at else 1.0)
        value *= math.exp(rng.gauss(0, 0.03))
        if rng.random() < 0.08:
            value *= 1 + rng.uniform(0.10, 0.25)
        out.append(value)
    return out


class ChangePointTest(unittest.TestCase):
    def test_one_real_step_is_found_where_it_is(self):
        exact = 0
        for seed in range(12):
            found = change_points(noisy(random.Random(seed), 0.2, 30, step_at=18, step=1.15))
            self.assertEqual(len(found), 1, f"seed {seed}: {found}")
            self.assertLess(found[0][1], 0.01)
            # A slow run just before the step can draw it a commit or two early.
            self.assertLessEqual(abs(found[0][0] - 18), 2, f"seed {seed}: {found}")
            exact += found[0][0] == 18
        self.assertGreaterEqual(exact, 9)

    def test_ordinary_noise_has_no_step(self):
        stepped = [seed for seed in range(20) if change_points(noisy(random.Random(100 + seed), 0.1, 30))]
        self.assertLessEqual(len(stepped), 1, stepped)

    def test_short_series_or_small_step(self):
        self.assertEqual(change_points([1.0, 1.0, 2.0, 2.0]), [])
        rng = random.Random(7)
        self.assertEqual(change_points(noisy(rng, 0.1, 30, step_at=15, step=1.02)), [])

    def test_cli_names_the_commit_where_it_stepped(self):
        with tempfile.TemporaryDirectory() as tmp:
            history = Path(tmp) / "history"
            history.mkdir()
            rng = random.Random(11)
            steady = noisy(rng, 0.05, 30)
            stepped = noisy(rng, 0.3, 30, step_at=18, step=1.2)
            for i in range(30):
                entry = {"commit": f"{i:04d}" + "c" * 36, "date": f"2026-11-{1 + i // 2:02d}T"
                         f"{10 + i % 2:02d}:00:00Z", "host_name": "testbox",
                         "benchmarks": {NAME: {"median": stepped[i], "real_times": [stepped[i]]},
                                        "eigen/executor:tbb/mode:map/workers:2":
                                            {"median": steady[i], "real_times": [steady[i]]}}}
                write_json(history / f"{i:02d}.json", entry)
            result = run_cli("history", "--changes", "--dir", history)
            self.assertEqual(result.returncode, 0, result.stderr)
            lines = [line for line in result.stdout.splitlines() if "/executor:" in line]
            self.assertEqual(len(lines), 1, result.stdout)
            self.assertIn(NAME, lines[0])
            self.assertIn("0018cccccccc", lines[0])
            self.assertRegex(lines[0], r"\+(1[5-9]|2[0-5])\.\d%")
            result = run_cli("history", "--plot", NAME, "--dir", history, "-o", Path(tmp) / "out")
            self.assertEqual(result.returncode, 0, result.stderr)


if __name__ == "__main__":
    unittest.main()
