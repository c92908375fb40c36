"""The history of runs over commits (``results/history/``): one small JSON file per run, named
by its date and commit, holding each benchmark's repetitions — enough to plot a benchmark's
median over time without keeping every full run, and to find the commits where it stepped."""
from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from .load import Run, UnusableInput
from .names import parse_name
from .files import make_folder, write_text

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
    make_folder(directory)
    path = directory / entry_filename(entry)
    write_text(path, json.dumps(entry, indent=1, sort_keys=True) + "\n", encoding="utf-8")
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


# ---- change points ---------------------------------------------------------------------------
#
# E-Divisive (Matteson and James, 2014; the method Otava and MongoDB's performance CI use) by
# binary segmentation: over a benchmark's medians in commit order (log scale, so a step is a
# ratio), the split that maximises the energy statistic between the two sides, kept when a
# permutation test says a split that large is unlikely in shuffled data (p < CHANGE_ALPHA) and the
# medians on either side differ by more than the threshold; then each side is searched again.
# The energy statistic compares whole distributions without assuming a shape, and the
# permutation test needs no model of the noise; the threshold keeps a real but tiny drift from
# being called a step. Entries from different machines are never mixed: each host is a series.

CHANGE_ALPHA = 0.01
PERMUTATIONS = 199
MIN_SEGMENT = 3
MAX_STEPS = 5


@dataclass(frozen=True)
class ChangePoint:
    benchmark: str
    host: str
    index: int  # the first entry after the step, in the host's series
    commit: str
    date: str
    before: float  # median of the medians before and after (seconds)
    after: float
    p: float

    @property
    def change(self) -> float:
        return self.after / self.before - 1


def _energy(distances: np.ndarray, lo: int, hi: int) -> tuple[int, float]:
    """The best split of [lo, hi) by the energy statistic, from the pairwise distances."""
    d = distances[lo:hi, lo:hi]
    n = hi - lo
    prefix = np.zeros((n + 1, n + 1))
    prefix[1:, 1:] = d.cumsum(0).cumsum(1)
    taus = np.arange(MIN_SEGMENT, n - MIN_SEGMENT + 1)
    if taus.size == 0:
        return -1, 0.0
    total = prefix[n, n]
    left = prefix[taus, taus]
    between = prefix[taus, n] - left
    right = total - left - 2 * between
    m1, m2 = taus.astype(float), (n - taus).astype(float)
    q = (m1 * m2 / n) * (2 * between / (m1 * m2) - left / (m1 * m1) - right / (m2 * m2))
    best = int(np.argmax(q))
    return lo + int(taus[best]), float(q[best])


def change_points(values: Sequence[float], threshold: float = 0.05, alpha: float = CHANGE_ALPHA,
                  permutations: int = PERMUTATIONS, seed: int = 0) -> list[tuple[int, float]]:
    """Indices where the series steps (the first index after each step) with their p-values."""
    x = np.log(np.asarray(values, dtype=float))
    if x.size < 2 * MIN_SEGMENT:
        return []
    rng = np.random.default_rng(seed)
    found: list[tuple[int, float]] = []
    segments = [(0, x.size)]
    while segments and len(found) < MAX_STEPS:
        lo, hi = segments.pop()
        if hi - lo < 2 * MIN_SEGMENT:
            continue
        part = x[lo:hi]
        tau, q = _energy(np.abs(part[:, None] - part[None, :]), 0, hi - lo)
        if tau < 0:
            continue
        ratio = math.exp(float(np.median(part[tau:]) - np.median(part[:tau])))
        if abs(ratio - 1) <= threshold:
            continue
        larger = 0
        for _ in range(permutations):
            shuffled = rng.permutation(part)
            larger += _energy(np.abs(shuffled[:, None] - shuffled[None, :]), 0, hi - lo)[1] >= q
        p = (1 + larger) / (1 + permutations)
        if p >= alpha:
            continue
        found.append((lo + tau, p))
        segments += [(lo, lo + tau), (lo + tau, hi)]
    return sorted(found)


def history_changes(entries: Sequence[dict[str, Any]], threshold: float = 0.05,
                    names: Sequence[str] | None = None) -> list[ChangePoint]:
    """Every step of every benchmark (or of ``names``) in the history, per machine."""
    keys = names or sorted({k for e in entries for k in e["benchmarks"]})
    found = []
    for key in keys:
        for host in sorted({e["host_name"] for e in entries}):
            series = [e for e in entries if e["host_name"] == host and key in e["benchmarks"]
                      and e["benchmarks"][key].get("median")]
            medians = [e["benchmarks"][key]["median"] for e in series]
            points = change_points(medians, threshold)
            bounds = [0, *(i for i, _ in points), len(series)]
            for n, (i, p) in enumerate(points):
                before = float(np.median(medians[bounds[n]:i]))
                after = float(np.median(medians[i:bounds[n + 2]]))
                found.append(ChangePoint(key, host, i, series[i]["commit"], series[i]["date"],
                                         before, after, p))
    return found
