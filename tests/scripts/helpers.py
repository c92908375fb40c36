"""What the tests share: where things are, and the CLI run as a subprocess by the interpreter
running the tests (``python -m cbench_report`` with scripts/ on PYTHONPATH)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import unittest
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SCRIPTS = ROOT / "scripts"
FIXTURES = HERE / "fixtures"
if str(SCRIPTS) not in sys.path:
    sys.path.insert(0, str(SCRIPTS))


def cli_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(SCRIPTS), *filter(None, [env.get("PYTHONPATH")])])
    env.setdefault("MPLBACKEND", "Agg")
    return env


def run_cli(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """``report ARGS...`` as a user runs it; output captured as text."""
    return subprocess.run([sys.executable, "-m", "cbench_report", *map(str, args)],
                          capture_output=True, text=True, env=cli_env(), cwd=cwd, timeout=120)


def run_cli_many(commands: Sequence[Sequence[str | Path]]) -> list[subprocess.CompletedProcess]:
    """Several CLI runs at once (each mostly waits on imports), results in order."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(lambda args: run_cli(*args), commands))


def write_json(path: Path, doc: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


FAKE_BENCH = HERE / "fake_bench.py"


def fake_binary(path: Path, *flags: str) -> Path:
    """A one-line executable wrapping fake_bench.py (a stand-in for the benchmark binary) with
    some flags of its own."""
    path.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{FAKE_BENCH}" {" ".join(flags)} "$@"\n')
    path.chmod(0o755)
    return path


class TempDirTest(unittest.TestCase):
    """A temporary folder ``self.dir`` for each test, removed after it."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = Path(self.tmp.name)

    def tearDown(self):
        self.tmp.cleanup()


class FakeBenchTest(TempDirTest):
    """A temporary folder ``self.dir``, and ``self.log`` where every fake_bench run appends its
    label and arguments (FAKE_BENCH_LOG). Valgrind is made absent (CBENCH_VALGRIND names no
    program), so a gate judges the fake binaries by time alone unless a test gives it
    fake_valgrind.py."""

    def setUp(self):
        super().setUp()
        self.log = self.dir / "runs.log"
        os.environ["FAKE_BENCH_LOG"] = str(self.log)
        os.environ["CBENCH_VALGRIND"] = str(self.dir / "no-valgrind-here")

    def tearDown(self):
        del os.environ["FAKE_BENCH_LOG"]
        os.environ.pop("CBENCH_VALGRIND", None)
        super().tearDown()
