"""Task granularity and METG (Task Bench's minimum effective task granularity).

A granularity row runs ``tasks`` tasks of ``task_seconds`` of CPU work each with W workers; its
efficiency is the useful work per usable core over the wall time,
    (tasks × task_seconds / min(W, cores)) / real_time,
and an executor's METG at W workers is the smallest task size at which that efficiency reaches
50%: below it, the executor spends more time dispatching than working. Between two measured
sizes the crossing is interpolated linearly in log(task size), the axis the sizes are spread on.

The ``granularity:native`` rows run the same tasks, as many per run, through the executor's
native floor (its runtime alone); their METG is computed the same way, and marked ``native``.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .ideal import run_cores
from .load import Run

TARGET = 0.5
TASKS_PER_WORKER = 64  # the contract's 64·W tasks, when a row has no ``tasks`` counter
FAMILY, NATIVE_FAMILY = "granularity", "granularity:native"


@dataclass(frozen=True)
class GranularityPoint:
    executor: str
    workers: int
    task_seconds: float
    tasks: int
    cores: int
    seconds: float  # median wall time of one run of all the tasks
    efficiency: float
    native: bool = False  # the executor's native floor, not the executor


@dataclass(frozen=True)
class Metg:
    """The METG of one executor at one worker count; ``seconds`` None: 50% never reached;
    ``at_smallest``: reached already at the smallest size measured (an upper bound)."""

    executor: str
    workers: int
    seconds: float | None
    at_smallest: bool = False
    native: bool = False

    def describe(self) -> str:
        if self.seconds is None:
            return "not reached"
        text = format_task_size(self.seconds)
        return f"≤ {text}" if self.at_smallest else text


def granularity_efficiency(tasks: int, task_seconds: float, workers: int, cores: int,
                           seconds: float) -> float:
    """Useful work per usable core over wall time (1 = no overhead at all)."""
    return tasks * task_seconds / min(workers, cores) / seconds


def granularity_points(run: Run) -> list[GranularityPoint]:
    """Every successful granularity row of the run, with its efficiency."""
    points = []
    default_cores = run_cores(run.context) or 1
    for b in run.benchmarks.values():
        if b.name.family not in (FAMILY, NATIVE_FAMILY) or not b.median:
            continue
        workers = b.name.int_param("workers") or 1
        task_us = b.name.int_param("task_us")
        task_seconds = b.counter("task_seconds") or (task_us * 1e-6 if task_us else None)
        if task_seconds is None:
            continue
        tasks = int(b.counter("tasks") or TASKS_PER_WORKER * workers)
        cores = int(b.counter("cores") or default_cores)
        points.append(GranularityPoint(
            b.name.executor or "?", workers, task_seconds, tasks, cores, b.median,
            granularity_efficiency(tasks, task_seconds, workers, cores, b.median),
            b.name.family == NATIVE_FAMILY))
    return sorted(points, key=lambda p: (p.native, p.executor, p.workers, p.task_seconds))


def metg(sizes: Sequence[float], efficiencies: Sequence[float],
         target: float = TARGET) -> tuple[float | None, bool]:
    """(METG, reached at the smallest size) for one curve; sizes need not be sorted.

    The first size, from the smallest up, whose efficiency reaches ``target``; when the size
    before it is below target, the crossing between them, linear in log(size)."""
    curve = sorted(zip(sizes, efficiencies))
    for i, (size, efficiency) in enumerate(curve):
        if efficiency < target:
            continue
        if i == 0:
            return size, True
        low_size, low_eff = curve[i - 1]
        fraction = (target - low_eff) / (efficiency - low_eff)
        log_size = math.log(low_size) + fraction * (math.log(size) - math.log(low_size))
        return math.exp(log_size), False
    return None, False


def metg_table(points: Iterable[GranularityPoint]) -> list[Metg]:
    """One METG per executor and worker count, and one per native floor and worker count."""
    curves: dict[tuple[bool, str, int], list[GranularityPoint]] = {}
    for p in points:
        curves.setdefault((p.native, p.executor, p.workers), []).append(p)
    table = []
    for (native, executor, workers), curve in sorted(curves.items()):
        seconds, at_smallest = metg([p.task_seconds for p in curve], [p.efficiency for p in curve])
        table.append(Metg(executor, workers, seconds, at_smallest, native))
    return table


def format_task_size(seconds: float) -> str:
    """A task size as people say it: 31.6 µs, 2.5 ms."""
    if seconds >= 1:
        return f"{seconds:.3g} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds * 1e6:.3g} µs"
