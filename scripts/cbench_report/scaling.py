"""Speedup and efficiency of every experiment row against its workload's sequential reference.

speedup = median sequential time / median time; efficiency = ideal time / median time, the
ideal from ``ideal.py`` scaled by (median sequential time / total task time): the per-task times
are measured once, before the cases, and a VM's speed drifts by tens of percent over minutes, so
they give the ideal its shape (how unequal the tasks are) and the sequential row of the same run
gives its scale — the ideal at one worker is the sequential time. A Python peer's rows
(``lang:python``) are measured against the Python sequential row when there is one, and their
ideal takes its shape from Python's own per-task times when the run has them.
Intervals are bootstraps (``stats.CI_METHOD``).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from . import registry
from .ideal import WorkloadModel, workload_model
from .load import Benchmark, Run
from .stats import bootstrap_median_ci, bootstrap_ratio_ci

Interval = tuple[float, float]


@dataclass(frozen=True)
class Point:
    """One experiment row with its derived numbers (None where they cannot be computed)."""

    key: str
    workload: str
    executor: str
    mode: str
    lang: str
    workers: int
    seconds: float
    seconds_ci: Interval
    repetitions: int
    speedup: float | None = None
    speedup_ci: Interval | None = None
    ideal_seconds: float | None = None
    ideal_speedup: float | None = None
    efficiency: float | None = None
    efficiency_ci: Interval | None = None
    cpu_utilization: float | None = None
    times: tuple[float, ...] = ()  # the repetitions' real times, seconds

    @property
    def series(self) -> tuple[str, str, str, str]:
        """The line a point belongs to on a chart: workload, executor, mode, language."""
        return self.workload, self.executor, self.mode, self.lang


def experiment_points(run: Run) -> list[Point]:
    """Every successful experiment row of the run, with speedup and efficiency."""
    experiments = [b for b in run.benchmarks.values()
                   if b.name.is_experiment and b.median is not None and b.median > 0]
    models = {(w, lang): workload_model(run.context, w, lang)
              for w, lang in {(b.name.family, b.name.lang) for b in experiments}}
    return [_point(b, _reference(experiments, b), models[b.name.family, b.name.lang])
            for b in experiments]


def by_series(points: Iterable[Point]) -> dict[tuple[str, str, str, str], list[Point]]:
    """Points grouped into chart lines, each sorted by worker count."""
    lines: dict[tuple[str, str, str, str], list[Point]] = {}
    for point in points:
        lines.setdefault(point.series, []).append(point)
    return {k: sorted(v, key=lambda p: p.workers) for k, v in sorted(lines.items())}


def best_points(points: Iterable[Point]) -> list[Point]:
    """For each line (executor, mode, language of a workload), its fastest worker count."""
    return [min(line, key=lambda p: p.seconds) for line in by_series(points).values()]


def _reference(experiments: list[Benchmark], row: Benchmark) -> Benchmark | None:
    """The sequential row of the same workload: same language, the same mode when it has one
    (``read``'s cold-cache rows have their own), else ``map``; Python rows fall back to C++."""
    candidates = [b for b in experiments
                  if b.name.family == row.name.family and registry.current().is_reference(b.name.executor)]
    for lang in dict.fromkeys((row.name.lang, "cpp")):
        for mode in dict.fromkeys((row.name.mode, "map")):
            for b in candidates:
                if b.name.lang == lang and b.name.mode == mode:
                    return b
    return None


def _point(row: Benchmark, reference: Benchmark | None, model: WorkloadModel | None) -> Point:
    workers = row.name.int_param("workers") or 1
    seconds = row.median
    times = row.real_times or (seconds,)
    seconds_ci = bootstrap_median_ci(times)
    speedup = speedup_ci = ideal = ideal_speedup = efficiency = efficiency_ci = None
    if reference is not None and reference.median:
        speedup = reference.median / seconds
        speedup_ci = bootstrap_ratio_ci(reference.real_times or (reference.median,), times)
    if model is not None:
        ideal = model.ideal_seconds(workers)
        ideal_speedup = model.ideal_speedup(workers)
        if reference is not None and reference.median:
            ideal *= reference.median / sum(model.task_seconds)
        efficiency = ideal / seconds
        efficiency_ci = (ideal / seconds_ci[1], ideal / seconds_ci[0])
    return Point(
        key=row.key, workload=row.name.family, executor=row.name.executor or "?",
        mode=row.name.mode, lang=row.name.lang, workers=workers, seconds=seconds,
        seconds_ci=seconds_ci, repetitions=row.repetitions, speedup=speedup,
        speedup_ci=speedup_ci, ideal_seconds=ideal, ideal_speedup=ideal_speedup,
        efficiency=efficiency, efficiency_ci=efficiency_ci,
        cpu_utilization=row.counter("cpu_utilization"), times=tuple(times))
