"""The ideal time of a workload (docs/results-format.md, "The ideal").

The tasks are unequal (the books differ in size), so W workers are not W times faster: the
ideal is the makespan of a greedy longest-processing-time-first schedule of the measured
sequential per-task times, over min(W, cores) slots for CPU work (more threads than cores do
not add CPU) and over W slots for waiting work (a waiting task holds a worker, not a core).
"""
from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class WorkloadModel:
    """What the context says about a workload: its per-task sequential times and its kind."""

    task_seconds: tuple[float, ...]
    kind: str  # "cpu" or "waiting"
    cores: int

    def slots(self, workers: int) -> int:
        return workers if self.kind == "waiting" else min(workers, self.cores)

    def ideal_seconds(self, workers: int) -> float:
        return lpt_makespan(self.task_seconds, self.slots(workers))

    def ideal_speedup(self, workers: int) -> float:
        """The schedule's own speedup: total work over the ideal makespan (1 at one worker)."""
        return sum(self.task_seconds) / self.ideal_seconds(workers)


def lpt_makespan(task_seconds: Sequence[float], slots: int) -> float:
    """Longest task first, each to the least-loaded slot; the finishing time of the last slot.
    Greedy, not optimal: [3, 3, 2, 2, 2] on 2 slots gives 7, though 6 is possible — the
    executors schedule greedily too."""
    if slots < 1:
        raise ValueError("a schedule needs at least one slot")
    if not task_seconds:
        return 0.0
    loads = [0.0] * min(slots, len(task_seconds))
    for seconds in sorted(task_seconds, reverse=True):
        heapq.heapreplace(loads, loads[0] + seconds)
    return max(loads)


def run_cores(context: Mapping[str, Any]) -> int | None:
    """Cores the run could use: ``cbench_cores``, else Google Benchmark's ``num_cpus``."""
    for key in ("cbench_cores", "num_cpus"):
        try:
            cores = int(str(context.get(key, "")).strip())
        except ValueError:
            continue
        if cores > 0:
            return cores
    return None


def workload_model(context: Mapping[str, Any], workload: str, lang: str = "cpp") -> WorkloadModel | None:
    """The model of ``workload`` from the context; None when the run did not record it. A
    peer's rows (``lang``) take their language's own per-task times
    (``cbench_task_seconds/<workload>/lang:<lang>``) when the run has them."""
    own = context.get(f"cbench_task_seconds/{workload}/lang:{lang}") if lang != "cpp" else None
    text = str(own if own is not None else context.get(f"cbench_task_seconds/{workload}", "")).strip()
    kind = str(context.get(f"cbench_work_kind/{workload}", "cpu")).strip() or "cpu"
    cores = run_cores(context)
    if not text or cores is None:
        return None
    try:
        seconds = tuple(float(s) for s in text.split(",") if s.strip())
    except ValueError:
        return None
    if not seconds or any(s < 0 for s in seconds) or sum(seconds) <= 0:
        return None
    return WorkloadModel(seconds, kind, cores)
