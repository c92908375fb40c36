"""What one task costs each executor, by lens: the dispatch of 10,000 empty tasks
(overhead:dispatch) in nanoseconds and, beside it, the structural counts of this run
(context switches and page faults per task, every dispatch row carries them) and the counted
lens's instructions and system calls per task, from the latest counted run (the main grid cannot
count them; the table names the run they come from). docs/counted.md."""
from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .load import Run
from .names import parse_name
from .style import executor_rank

PER_TASK_HEADERS = ["executor", "workers", "time", "context switches", "page faults",
                    "instructions (counted)", "system calls (counted)"]
COUNTED_DIR = Path("results") / "counted"  # where scripts/report count writes by default


def latest_counted(root: Path) -> Path | None:
    """The newest counted run under ``root``/results/counted (its first run's JSON)."""
    found = sorted((root / COUNTED_DIR).glob("*/run-0/counted.json"))
    return found[-1] if found else None


def read_counted(path: Path | None) -> dict[str, Any] | None:
    if path is None or not path.is_file():
        return None
    try:
        doc = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None
    return doc if isinstance(doc, dict) and isinstance(doc.get("benchmarks"), list) else None


def counted_rows(doc: Mapping[str, Any] | None) -> dict[str, dict[str, float]]:
    if doc is None:
        return {}
    return {parse_name(r["name"]).key: r for r in doc["benchmarks"]
            if "instructions_per_task" in r and r.get("run_type", "iteration") == "iteration"}


def per_task_rows(run: Run, counted: Mapping[str, Any] | None) -> list[list[str]]:
    """One line per dispatch row of the run: its ns per task, its switches and faults per task,
    and the counted run's instructions and system calls per task for the same executor and W."""
    from .tables import ns_per_task

    counts = counted_rows(counted)
    rows = [b for b in run.benchmarks.values() if b.name.family == "overhead:dispatch" and b.median]
    rows.sort(key=lambda b: (executor_rank(b.name.executor or "?"), b.name.int_param("workers") or 1))
    out = []
    for b in rows:
        switches = [b.counter(c) for c in ("voluntary_switches_per_task",
                                          "involuntary_switches_per_task")]
        faults = b.counter("page_faults_per_task")
        c = counts.get(b.name.key, {})
        out.append([b.name.executor or "?", str(b.name.int_param("workers") or 1),
                    f"{ns_per_task(b):,.0f} ns",
                    _small(sum(switches) if None not in switches else None),
                    _small(faults), _number(c.get("instructions_per_task"), 0),
                    _small(c.get("syscalls_per_task"))])
    return out


def per_task_note(counted: Mapping[str, Any] | None, path: Path | None) -> str:
    if counted is None:
        return ("Instructions and system calls come from a counted run (scripts/report count, "
                "docs/counted.md); none was found, so those columns are empty.")
    ctx = counted.get("context", {})
    return (f"Instructions and system calls per task from the counted run {path} (commit "
            f"{str(ctx.get('cbench_commit', '?'))[:12]}, {ctx.get('date', '?')}, "
            f"{ctx.get('cbench_counted', 'callgrind')}), not from this run: the main grid "
            "cannot count them. Context switches (voluntary and forced) and page faults per "
            "task are this run's, the worker processes' included.")


def _number(value: float | None, digits: int) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def _small(value: float | None) -> str:
    """A count per task, which is often a small fraction: three significant digits."""
    return "–" if value is None else ("0" if value == 0 else f"{value:.3g}")
