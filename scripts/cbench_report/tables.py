"""The rows of the report's tables, shared by the HTML page and the Markdown summary: per
workload, each executor line at its best worker count; METG; and the warnings a reader must
see before trusting the numbers."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .load import Run
from . import registry
from .metg import Metg
from .nested import is_expected_outcome
from .scaling import Point, best_points
from .style import executor_rank, series_label
from .stats import bootstrap_ratio_ci
from .text import percent, ratio, seconds

# Fewer repetitions than this give no interval and no test; within TIE_BAND of each other, two
# times from one run each are called tied (the run-to-run noise of one case on a quiet machine).
MIN_TESTED = 3
TIE_BAND = 0.05

WORKLOAD_HEADERS = ["executor", "best W", "time", "95% CI", "speedup", "efficiency"]
METG_HEADERS = ["executor", "workers", "METG (50% efficiency)", "its runtime alone"]
TAX_HEADERS = ["executor", "workers", "through cbench", "runtime alone", "interface tax"]
DISPATCH_TASKS = 10_000  # empty tasks per iteration of a dispatch case (docs/results-format.md)
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
            interval_cell(p), ratio(p.speedup), percent(p.efficiency)])
    return tables


@dataclass(frozen=True)
class Ranking:
    """A workload's fastest C++ line and every line that cannot be told apart from it."""

    workload: str
    best: Point
    tied: tuple[Point, ...]
    tested: bool  # False: too few repetitions, ties are the lines within TIE_BAND


def same_time(a: Point, b: Point) -> bool:
    """Whether two lines' times cannot be told apart: with MIN_TESTED repetitions each, the
    95% bootstrap interval of the ratio of their medians includes 1; with fewer (one run), they
    are within TIE_BAND of each other, the run-to-run noise of one case on a quiet machine."""
    if tested(a, b):
        low, high = bootstrap_ratio_ci(a.times, b.times)
        return low <= 1.0 <= high
    return abs(a.seconds / b.seconds - 1) <= TIE_BAND


def tested(*points: Point) -> bool:
    return all(p.repetitions >= MIN_TESTED and len(p.times) >= MIN_TESTED for p in points)


def rankings(points: Sequence[Point]) -> list[Ranking]:
    """Per workload (C++ rows; a Python peer's have their own table, languages.py): the fastest
    executor at its best worker count and mode, and the executors tied with it."""
    best: dict[str, dict[str, Point]] = {}
    for p in best_points(q for q in points if q.lang == "cpp"):
        line = best.setdefault(p.workload, {})
        if p.executor not in line or p.seconds < line[p.executor].seconds:
            line[p.executor] = p
    out = []
    for workload, lines in best.items():
        fastest = min(lines.values(), key=lambda p: p.seconds)
        others = sorted((p for p in lines.values() if p is not fastest), key=lambda p: p.seconds)
        out.append(Ranking(workload, fastest, tuple(p for p in others if same_time(p, fastest)),
                           tested(*lines.values())))
    return out


FASTEST_HEADERS = ["workload", "executor", "W", "time", "speedup", "efficiency", "tied with it"]


def fastest_rows(points: Sequence[Point]) -> list[list[str]]:
    """One row per workload: the fastest C++ line and the lines tied with it."""
    rows = []
    odd = anomalies(points)
    for r in rankings(points):
        p = r.best
        ties = ", ".join(f"{q.executor} ({q.workers})" for q in r.tied) or "none"
        # A time is a measurement; a speedup against a reference taken in a slow minute is not.
        derived = (["see the warnings"] * 2 if p.key in odd
                   else [ratio(p.speedup), percent(p.efficiency)])
        rows.append([r.workload, series_label(p.executor, p.mode, p.lang), str(p.workers),
                     time_cell(p), *derived, ties])
    return rows


def ranking_note(points: Sequence[Point]) -> str:
    """How the ties were decided, and on how many runs the ranking rests."""
    ranked = rankings(points)
    if ranked and all(r.tested for r in ranked):
        return (f"Tied: executors (at their own best W) whose time cannot be told apart from the "
                f"fastest's: the 95% bootstrap interval of the ratio of their medians includes 1 "
                f"({MIN_TESTED} or more repetitions each).")
    reps = min((p.repetitions for r in ranked for p in (r.best, *r.tied)), default=1)
    return (f"The ranking rests on {'one run' if reps <= 1 else f'{reps} runs'} of each case, "
            f"too few to test: executors within {TIE_BAND:.0%} of the fastest (the run-to-run "
            f"noise of a quiet machine) are listed as tied, and no interval is given. "
            f"--benchmark_repetitions={MIN_TESTED} or more (the full preset) tests them.")


def time_cell(p: Point) -> str:
    return seconds(p.seconds)


def interval_cell(p: Point) -> str:
    """The time's 95% interval; none from fewer than MIN_TESTED repetitions."""
    if p.repetitions < MIN_TESTED:
        return "one run" if p.repetitions <= 1 else f"{p.repetitions} runs"
    return f"{seconds(p.seconds_ci[0])} – {seconds(p.seconds_ci[1])}"


@dataclass(frozen=True)
class Tax:
    """An executor's cost per empty task through the interface (overhead:dispatch) and its
    runtime's alone (overhead:native) at the same W, and their ratio: the interface tax."""
    executor: str
    workers: int
    dispatch_ns: float
    native_ns: float

    @property
    def ratio(self) -> float:
        return self.dispatch_ns / self.native_ns if self.native_ns > 0 else float("inf")


def ns_per_task(row) -> float:
    counter = row.counter("ns_per_task")
    return counter if counter is not None else row.median / DISPATCH_TASKS * 1e9


def interface_tax(run: Run) -> list[Tax]:
    """Every executor and W that has both a dispatch row and a native-floor row."""
    def rows(family: str) -> dict[tuple[str, int], float]:
        return {(b.name.executor or "?", b.name.int_param("workers") or 1): ns_per_task(b)
                for b in run.benchmarks.values() if b.name.family == family and b.median}
    dispatch, native = rows("overhead:dispatch"), rows("overhead:native")
    found = [Tax(e, w, dispatch[(e, w)], native[(e, w)]) for (e, w) in dispatch if (e, w) in native]
    return sorted(found, key=lambda t: (executor_rank(t.executor), t.workers))


def tax_rows(taxes: Sequence[Tax]) -> list[list[str]]:
    return [[t.executor, str(t.workers), f"{t.dispatch_ns:,.0f} ns", f"{t.native_ns:,.0f} ns",
             f"{t.ratio:.2f}×"] for t in taxes]


WAKE_HEADERS = ["executor", "workers", "start-up per run"]


def wake_rows(run: Run) -> list[list[str]]:
    """overhead:wake: one run of W empty tasks after the workers have gone to sleep."""
    rows = [b for b in run.benchmarks.values() if b.name.family == "overhead:wake" and b.median]
    rows.sort(key=lambda b: (executor_rank(b.name.executor or "?"), b.name.int_param("workers") or 1))
    out = []
    for b in rows:
        us = b.counter("us_per_run")
        out.append([b.name.executor or "?", str(b.name.int_param("workers") or 1),
                    seconds((us if us is not None else b.median * 1e6) * 1e-6)])
    return out


TAX_NOTE = ("The interface tax is what cbench's uniform interface costs per task on top of the "
            "runtime's own cheapest way to run an empty task (overhead:native). It buys every "
            "task named in its error, results in task order or as they complete, W honoured "
            "exactly and counted, and a per-task trace (worker, start, end).")


def metg_rows(metgs: Sequence[Metg]) -> list[list[str]]:
    """One row per executor and worker count: its METG, and its native floor's beside it ("—"
    for a run without granularity:native rows, or an executor without a floor)."""
    native = {(m.executor, m.workers): m for m in metgs if m.native}
    return [[m.executor, str(m.workers), m.describe(),
             native[(m.executor, m.workers)].describe() if (m.executor, m.workers) in native
             else "—"]
            for m in sorted(metgs, key=lambda m: (executor_rank(m.executor), m.workers))
            if not m.native]


def anomalies(points: Sequence[Point]) -> dict[str, str]:
    """Rows that cannot be results, by key, with the sentence that says why: an efficiency
    above the ideal by more than the noise, or an executor with one worker faster than its
    language's plain loop by more than the noise (one worker runs the same work one task at a
    time, so it can only be as fast or slower; slower is its dispatch cost, which the overhead
    cases measure). The noise: the 95% interval with MIN_TESTED repetitions or more, else
    TIE_BAND. The charts leave these rows out and the summary lists them as warnings."""
    found: dict[str, str] = {}
    for p in points:
        runs = f"{p.repetitions} run{'s' if p.repetitions != 1 else ''}"
        if p.efficiency is not None and p.efficiency_ci is not None:
            over = p.efficiency_ci[0] > 1.0 if tested(p) else p.efficiency > 1 + TIE_BAND
            if over:
                found[p.key] = (f"{p.key}: efficiency {p.efficiency:.0%} is beyond the ideal "
                                f"schedule by more than the noise ({runs}): something other "
                                f"than the model made it fast (a warm-up, a slow reference "
                                f"row, a cache); not drawn as a result.")
                continue
        if (p.workers == 1 and not registry.current().is_reference(p.executor)
                and p.speedup is not None):
            faster = (p.speedup_ci is not None and p.speedup_ci[0] > 1.0 if tested(p)
                      else p.speedup > 1 + TIE_BAND)
            if faster:
                found[p.key] = (f"{p.key}: one worker took {seconds(p.seconds)}, "
                                f"{p.speedup:.2f}× faster than the plain loop of its language "
                                f"({runs}), though it runs the same tasks one at a time: a "
                                f"measurement artefact, not a result; not drawn.")
    return found


GROUPED = 3  # this many anomalies in one workload and language are told in one sentence


def anomaly_warnings(points: Sequence[Point]) -> list[str]:
    """The anomalies as the summary tells them: one sentence per row, or one per workload and
    language when GROUPED or more of its rows are off — the usual cause being its sequential
    reference row, taken in a slow (or fast) minute of the machine, which every speedup and
    efficiency of the workload is measured against."""
    found = anomalies(points)
    by_line: dict[tuple[str, str], list[Point]] = {}
    for p in points:
        if p.key in found:
            by_line.setdefault((p.workload, p.lang), []).append(p)
    out = []
    for (workload, lang), rows in by_line.items():
        if len(rows) < GROUPED:
            out += [found[p.key] for p in rows]
            continue
        worst = max(rows, key=lambda p: p.efficiency or 0)
        reference = next((p for p in points if p.workload == workload and p.lang == lang
                          and registry.current().is_reference(p.executor) and p.mode == "map"),
                         None)
        cause = ""
        if reference is not None and reference.ideal_seconds and worst.ideal_seconds:
            cause = (f" Its sequential reference row took {seconds(reference.seconds)}: if the "
                     f"machine was slow while it ran, every row of the workload looks faster "
                     f"than it is.")
        language = "" if lang == "cpp" else f" ({lang})"
        out.append(f"{workload}{language}: {len(rows)} rows cannot be results — beyond the ideal "
                   f"schedule or faster with one worker than the plain loop, by more than the "
                   f"noise (up to {worst.efficiency or 0:.0%} efficiency, {worst.key}).{cause} "
                   f"They are not drawn; run with repetitions (the full preset) to see past it.")
    return out


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
    # Cases measured while the host was slow (host_watch.hpp): measured again at the end of the
    # run; those that never ran clean are named.
    again = int(run.context.get("cbench_remeasured", 0) or 0)
    unclean = sorted(b.key for b in run.benchmarks.values() if b.counter("host_disturbed"))
    if again or unclean:
        found.append(f"{again} case(s) were measured again because the host was slow around "
                     f"them (a probe of known work before or after the case took longer than "
                     f"its limit, or other processes kept a quarter of a core or more busy); "
                     f"{len(unclean)} never ran clean"
                     + (": " + ", ".join(unclean[:10]) + (" …" if len(unclean) > 10 else "")
                        if unclean else "") + ".")
    # Each failed case with why: the check names the task, its kind and the executor whose
    # results differed, which a list of case names alone would not say. A nested row's deadlock
    # (shown on purpose) or "not supported" is its result, not a failure (nested.py).
    failed = [f"{b.key} ({_short(b.errors[0], 240)})" for b in run.benchmarks.values()
              if b.errors and not all(is_expected_outcome(e) for e in b.errors)]
    if failed:
        found.append(f"{len(failed)} case(s) failed: " + "; ".join(failed[:10])
                     + (" …" if len(failed) > 10 else ""))
    return found


def _short(value: object, limit: int = 160) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
