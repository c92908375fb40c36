"""The rows of the report's tables, shared by the HTML page and the Markdown summary: per
workload, each executor line at its best worker count; METG; and the warnings a reader must
see before trusting the numbers."""
from __future__ import annotations

from collections.abc import Sequence

from .load import Run
from .metg import Metg
from .scaling import Point, best_points
from .style import executor_rank, series_label
from .text import percent, ratio, seconds

WORKLOAD_HEADERS = ["executor", "best W", "time", "95% CI", "speedup", "efficiency"]
METG_HEADERS = ["executor", "workers", "METG (50% efficiency)"]
CONTEXT_FIRST = ("host_name", "num_cpus", "date", "cbench_commit", "cbench_preset", "cbench_corpus",
                 "cbench_cores", "cbench_loaded")


def workload_rows(points: Sequence[Point]) -> dict[str, list[list[str]]]:
    """Per workload, one row per executor line (mode, language) at its fastest W."""
    best = sorted(best_points(points), key=lambda p: (p.workload, p.lang != "cpp",
                                                      executor_rank(p.executor), p.mode))
    tables: dict[str, list[list[str]]] = {}
    for p in best:
        tables.setdefault(p.workload, []).append([
            series_label(p.executor, p.mode, p.lang), str(p.workers), seconds(p.seconds),
            f"{seconds(p.seconds_ci[0])} – {seconds(p.seconds_ci[1])}",
            ratio(p.speedup), percent(p.efficiency)])
    return tables


def fastest_rows(points: Sequence[Point]) -> list[list[str]]:
    """One row per workload: the fastest C++ line, for the one-glance summary (a Python peer's
    rows have their own table, languages.py)."""
    fastest: dict[str, Point] = {}
    for p in best_points(q for q in points if q.lang == "cpp"):
        if p.workload not in fastest or p.seconds < fastest[p.workload].seconds:
            fastest[p.workload] = p
    return [[w, series_label(p.executor, p.mode, p.lang), str(p.workers), seconds(p.seconds),
             ratio(p.speedup), percent(p.efficiency)] for w, p in fastest.items()]


def metg_rows(metgs: Sequence[Metg]) -> list[list[str]]:
    return [[m.executor, str(m.workers), m.describe()]
            for m in sorted(metgs, key=lambda m: (executor_rank(m.executor), m.workers))]


def context_rows(run: Run) -> list[list[str]]:
    """The run's context, the keys that identify it first; the per-workload task times last."""
    keys = [k for k in CONTEXT_FIRST if k in run.context]
    keys += sorted(k for k in run.context if k not in keys)
    keys.sort(key=lambda k: k.startswith(("cbench_task_seconds/", "cbench_work_kind/")))
    return [[k, _short(run.context[k])] for k in keys]


def warnings(run: Run) -> list[str]:
    """What makes the numbers less trustworthy: a loaded machine, stolen CPU, failed cases."""
    found = []
    if str(run.context.get("cbench_loaded", "")).lower() == "true":
        found.append(f"The machine was loaded before the run (load average "
                     f"{run.context.get('cbench_loadavg_before', '?')}): times are not comparable "
                     f"with a quiet machine's.")
    steal = [b.counter("steal_fraction") for b in run.benchmarks.values()]
    worst = max((s for s in steal if s is not None), default=0.0)
    if worst > 0.02:
        found.append(f"The hypervisor stole up to {worst:.1%} of the CPU time during a case.")
    failed = [b.key for b in run.benchmarks.values() if b.errors]
    if failed:
        found.append(f"{len(failed)} case(s) failed: " + ", ".join(failed[:10])
                     + (" …" if len(failed) > 10 else ""))
    return found


def _short(value: object, limit: int = 160) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
