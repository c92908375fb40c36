"""The history of runs over commits (``results/history/``): one small JSON file per run, named
by its date and commit, holding each benchmark's repetitions — enough to plot a benchmark's
median over time without keeping every full run."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .load import Run, UnusableInput
from .names import parse_name

ENTRY_FIELDS = ("commit", "date", "host_name", "benchmarks")


def history_entry(run: Run) -> dict[str, Any]:
    """The part of a run the history keeps."""
    return {
        "commit": run.ctx("cbench_commit", "unknown") or "unknown",
        "date": run_date(run),
        "host_name": run.ctx("host_name", "unknown"),
        "num_cpus": run.context.get("num_cpus"),
        "cores": run.ctx("cbench_cores"),
        "preset": run.ctx("cbench_preset"),
        "corpus": run.ctx("cbench_corpus"),
        "benchmarks": {b.key: {"median": b.median, "real_times": list(b.real_times)}
                       for b in run.benchmarks.values() if b.median is not None},
    }


def run_date(run: Run) -> str:
    """The run's date (Google Benchmark's ``date`` in the context) in UTC, ISO 8601."""
    try:
        date = datetime.fromisoformat(run.ctx("date"))
    except ValueError:
        raise UnusableInput(f"{run.path}: the context has no usable \"date\" "
                            f"({run.ctx('date')!r})") from None
    if date.tzinfo is None:
        date = date.replace(tzinfo=timezone.utc)
    return date.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def entry_filename(entry: dict[str, Any]) -> str:
    """``20261125T224415Z-<commit>.json``: sorted by name is sorted by date, and appending the
    same run twice replaces it instead of counting it twice."""
    stamp = entry["date"].replace("-", "").replace(":", "")
    commit = "".join(c for c in entry["commit"][:12] if c.isalnum()) or "unknown"
    return f"{stamp}-{commit}.json"


def append_run(run: Run, directory: Path) -> Path:
    entry = history_entry(run)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / entry_filename(entry)
    path.write_text(json.dumps(entry, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return path


def load_history(directory: Path) -> list[dict[str, Any]]:
    """Every entry in ``directory``, oldest first."""
    entries = []
    for path in sorted(directory.glob("*.json")):
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise UnusableInput(f"{path}: not a history entry ({error})") from None
        if not isinstance(entry, dict) or any(k not in entry for k in ENTRY_FIELDS):
            raise UnusableInput(f"{path}: not a history entry (needs {', '.join(ENTRY_FIELDS)})")
        entries.append(entry)
    return sorted(entries, key=lambda e: e["date"])


def entries_with(entries: list[dict[str, Any]], name: str) -> tuple[str, list[dict[str, Any]]]:
    """The key ``name`` stands for (a full Google Benchmark name works too) and the entries
    that have it."""
    key = parse_name(name).key
    return key, [e for e in entries if key in e["benchmarks"]]
