"""Cost against work: the ``scale/workload:W/executor:E/workers:N/scale:S`` rows of
``--cbench_scale`` (docs/results-format.md). Each workload's work grows S times at scale S (the
corpus, the iteration count, the matrix so that a solve costs S times more); an executor's time
against S on log-log axes is a line whose slope is how its cost grows with the work: 1 when it
grows as the work does, more when something (a cache, a lock, memory) makes more work dearer.
The slope is the least-squares fit of log(time) on log(scale).
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from .load import Run
from .style import executor_rank
from .text import seconds as format_seconds

FAMILY = "scale"


@dataclass(frozen=True)
class ScalePoint:
    workload: str
    executor: str
    workers: int
    scale: int
    seconds: float  # median wall time of one run at that scale


@dataclass(frozen=True)
class ScaleFit:
    workload: str
    executor: str
    workers: int
    exponent: float | None  # None: fewer than two scales
    points: tuple[ScalePoint, ...]


def scale_points(run: Run) -> list[ScalePoint]:
    points = []
    for b in run.benchmarks.values():
        if b.name.family != FAMILY or not b.median:
            continue
        workload, scale = b.name.get("workload"), b.name.int_param("scale")
        if not workload or not scale:
            continue
        points.append(ScalePoint(workload, b.name.executor or "?", b.name.int_param("workers") or 1,
                                 scale, b.median))
    return sorted(points, key=lambda p: (p.workload, p.executor, p.scale))


def fit_exponent(scales: Sequence[float], seconds: Sequence[float]) -> float | None:
    """The slope of log(seconds) against log(scale), least squares; None for fewer than two
    distinct scales."""
    xs = [math.log(s) for s in scales]
    ys = [math.log(t) for t in seconds]
    if len(set(xs)) < 2:
        return None
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return (sum((x - mx) * (y - my) for x, y in zip(xs, ys))
            / sum((x - mx) ** 2 for x in xs))


def scale_fits(points: Sequence[ScalePoint]) -> list[ScaleFit]:
    curves: dict[tuple[str, str, int], list[ScalePoint]] = {}
    for p in points:
        curves.setdefault((p.workload, p.executor, p.workers), []).append(p)
    return [ScaleFit(w, e, n, fit_exponent([p.scale for p in c], [p.seconds for p in c]),
                     tuple(c))
            for (w, e, n), c in sorted(curves.items())]


def describe_exponent(exponent: float | None) -> str:
    return "—" if exponent is None else f"{exponent:.2f}"


HEADERS = ["workload", "executor", "workers", "scales", "time per run", "exponent"]
NOTE = ("The exponent is the slope of log(time) against log(scale): 1 when the cost grows as the "
        "work does; more when more work is dearer per unit (caches, memory), less when a fixed "
        "cost is amortised.")


def scale_rows(fits: Sequence[ScaleFit]) -> list[list[str]]:
    rows = []
    for f in sorted(fits, key=lambda f: (f.workload, executor_rank(f.executor))):
        first, last = f.points[0], f.points[-1]
        rows.append([f.workload, f.executor, str(f.workers), f"{first.scale}–{last.scale}",
                     f"{format_seconds(first.seconds)} → {format_seconds(last.seconds)}",
                     describe_exponent(f.exponent)])
    return rows
