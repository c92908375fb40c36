"""The per-task trace the suite writes beside a run (``results.trace.json`` beside
``results.json``): which worker ran which task, when, in each case's last iteration."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from .load import UnusableInput
from .names import Name, parse_name


@dataclass(frozen=True)
class TraceTask:
    task: str
    worker: int
    start: float  # seconds from the start of the case's last iteration
    end: float


@dataclass(frozen=True)
class TraceCase:
    name: Name
    tasks: tuple[TraceTask, ...]

    @property
    def workers(self) -> int:
        return max((t.worker for t in self.tasks), default=-1) + 1


def trace_path(run_path: str | Path) -> Path:
    """``.../results.json`` -> ``.../results.trace.json`` (as the suite names it)."""
    path = Path(run_path)
    return path.with_name(path.name.removesuffix(".json") + ".trace.json")


def load_trace(path: str | Path) -> list[TraceCase]:
    """Reads a trace; ``UnusableInput`` names the file and the problem."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UnusableInput(f"{path}: unreadable trace ({error})") from None
    if not isinstance(doc, list):
        raise UnusableInput(f"{path}: a trace is a list of cases")
    try:
        return [TraceCase(parse_name(str(case["name"])),
                          tuple(TraceTask(str(t["task"]), int(t["worker"]), float(t["start"]),
                                          float(t["end"])) for t in case["tasks"]))
                for case in doc]
    except (KeyError, TypeError, ValueError) as error:
        raise UnusableInput(f"{path}: a case or task lacks a field ({error})") from None
