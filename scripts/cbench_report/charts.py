"""The charts, drawn with matplotlib's object API on the Agg canvas (no pyplot, so no global
figure state): each function takes data and returns a ``Chart`` or None when the run has
nothing for it; ``save_chart`` writes it as PNG and SVG."""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from matplotlib import ticker
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from . import registry
from .load import Benchmark, Run
from .metg import GranularityPoint, Metg, granularity_points, metg, metg_table
from .nested import is_nested
from .scale import ScaleFit, describe_exponent, scale_fits, scale_points
from .scaling import Point, by_series, experiment_points
from .stats import CI_METHOD, bootstrap_median_ci
from .style import (IDEAL_STYLE, executor_colour, executor_rank, line_style, machine_line,
                    series_label)
from .tables import anomalies, interface_tax
from .text import seconds
from .trace import TraceCase

DISPATCH_TASKS = 10_000  # empty tasks per iteration of a dispatch case (docs/results-format.md)


@dataclass(frozen=True)
class Chart:
    stem: str  # file name without extension
    title: str
    figure: Figure


def run_charts(run: Run, trace: Sequence[TraceCase] = ()) -> list[Chart]:
    """Every chart the run has data for, in the order a reader wants them."""
    points = experiment_points(run)
    workloads = list(dict.fromkeys(p.workload for p in points))
    granularity = granularity_points(run)
    charts = []
    hidden = anomalies(points)
    for w in workloads:
        mine = [p for p in points if p.workload == w]
        charts += [speedup_chart(w, mine, run.context, hidden), time_chart(w, mine, run.context)]
    charts += [cpu_utilization_chart(points, run.context), dispatch_chart(run), tax_chart(run),
               lifecycle_chart(run), memory_chart(run),
               granularity_chart(granularity, metg_table(granularity), run.context),
               link_chart(run)]
    charts += [timeline_chart(w, trace, run.context) for w in workloads]
    charts.append(scale_chart(scale_fits(scale_points(run)), run.context))
    charts += nested_charts(run)
    return [c for c in charts if c is not None]


def save_chart(chart: Chart, out_dir: Path) -> list[Path]:
    """Writes ``<stem>.png`` and ``<stem>.svg``; returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / f"{chart.stem}.png", out_dir / f"{chart.stem}.svg"]
    chart.figure.savefig(paths[0], dpi=110, bbox_inches="tight")
    # No date in the SVG, so an unchanged chart is an unchanged file.
    chart.figure.savefig(paths[1], bbox_inches="tight", metadata={"Date": None})
    return paths


def file_stem(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-") or "chart"


# ---- experiments ---------------------------------------------------------------------------


MODE_ORDER = {"map": 0, "as-completed": 1, "cold": 2, "cold-cache": 3}


def panels(points: Sequence[Point]) -> list[tuple[str, str, list[Point]]]:
    """Small multiples: one panel per language and mode, so that no panel carries more than the
    executors of one mode (seven at most); the sequential reference is the ideal's first point
    and is not drawn as a line of its own."""
    ref = registry.current().reference()
    keys = sorted({(p.lang, p.mode) for p in points if p.executor != ref},
                  key=lambda k: (k[0] != "cpp", MODE_ORDER.get(k[1], 9), k[1]))
    return [(lang, mode, [p for p in points if (p.lang, p.mode) == (lang, mode)
                          and p.executor != ref]) for lang, mode in keys]


def speedup_chart(workload: str, points: Sequence[Point], context: Mapping[str, Any],
                  hidden: Mapping[str, str] | None = None) -> Chart | None:
    """Per language and mode, a row of two panels: speedup against workers (log2) with that
    language's ideal, and the efficiency against it. Rows in ``hidden`` (anomalies, listed as
    warnings instead) are not drawn."""
    shown = [p for p in points if p.key not in (hidden or {})]
    rows = panels(shown)
    if not rows:
        return None
    title = f"{workload}: speedup and efficiency against the ideal schedule"
    figure, axes = _figure(title, context, (12, 3.3 * len(rows) + 1.2), nrows=len(rows), ncols=2,
                           squeeze=False, sharex=True)
    for (lang, mode, mine), (top, bottom) in zip(rows, axes):
        for (_, executor, _, _), line in _ordered(by_series(mine)):
            style = line_style(executor, mode, lang)
            with_speedup = [p for p in line if p.speedup is not None]
            label = series_label(executor, "map", lang)  # the panel's title names the mode
            if with_speedup:
                _errorbar(top, with_speedup, "speedup", style, label)
            with_efficiency = [p for p in line if p.efficiency is not None]
            if with_efficiency:
                _errorbar(bottom, with_efficiency, "efficiency", style, label)
        ideal = sorted({(p.workers, p.ideal_speedup) for p in shown
                        if p.ideal_speedup is not None and p.lang == lang} | {(1, 1.0)})
        top.plot(*zip(*ideal), label="ideal (greedy schedule)", **IDEAL_STYLE)
        bottom.axhline(1.0, **IDEAL_STYLE)
        language = "C++" if lang == "cpp" else lang.capitalize()
        top.set_title(f"{language}, {mode}: speedup over {language}'s sequential", fontsize="medium")
        bottom.set_title(f"{language}, {mode}: efficiency (ideal time / time)", fontsize="medium")
        bottom.set_ylim(0, max(1.1, max((p.efficiency or 0 for p in mine), default=1) * 1.05))
        for ax in (top, bottom):
            _workers_axis(ax, [p.workers for p in shown])
        bottom.legend(*top.get_legend_handles_labels(), loc="upper left",
                      bbox_to_anchor=(1.01, 1.0), fontsize="small")
    for ax in axes[-1]:
        ax.set_xlabel("workers")
    figure.supxlabel(f"error bars: {CI_METHOD}", fontsize="small")
    return Chart(f"speedup-{file_stem(workload)}", title, figure)


def time_chart(workload: str, points: Sequence[Point], context: Mapping[str, Any]) -> Chart | None:
    """Wall time (log) against workers: a row of panels per mode, C++ and a Python peer side by
    side on one shared scale (so the languages compare at a glance, seven lines a panel at most),
    each language's sequential row as a horizontal reference. Where the speedup chart measures
    each language against its own sequential row, this one compares them. Every row is drawn: a
    time is a measurement even where the speedup derived from it is an anomaly."""
    ref = registry.current().reference()
    modes = sorted({p.mode for p in points if p.executor != ref},
                   key=lambda m: (MODE_ORDER.get(m, 9), m))
    langs = sorted({p.lang for p in points}, key=lambda lang: (lang != "cpp", lang))
    if not modes:
        return None
    title = f"{workload}: wall time per run of the workload"
    figure, axes = _figure(title, context, (6.5 * len(langs) + 2, 3.4 * len(modes) + 1.2),
                           nrows=len(modes), ncols=len(langs), squeeze=False, sharex=True,
                           sharey=True)
    for mode, row in zip(modes, axes):
        for lang, ax in zip(langs, row):
            mine = [p for p in points if p.mode == mode and p.lang == lang and p.executor != ref]
            for (_, executor, _, _), line in _ordered(by_series(mine)):
                _errorbar(ax, line, "seconds", line_style(executor, mode, lang),
                          series_label(executor, "map", lang))
            for p in points:
                if p.executor == ref and p.mode == "map" and p.lang == lang:
                    ax.axhline(p.seconds, color=executor_colour(ref), linewidth=1,
                               linestyle="--" if lang == "python" else "-",
                               label=f"{series_label('sequential', 'map', lang)}: {seconds(p.seconds)}")
            ax.set_title(f"{'C++' if lang == 'cpp' else lang.capitalize()}, {mode}", fontsize="medium")
            ax.set_yscale("log")
            _time_axis(ax.yaxis)
            _workers_axis(ax, [p.workers for p in points])
            if mine:
                ax.legend(loc="best", fontsize="x-small")
            else:  # a mode this language does not have
                ax.set_visible(False)
        row[0].set_ylabel("wall time (log scale)")
    for ax in axes[-1]:
        ax.set_xlabel("workers")
    figure.supxlabel(f"error bars: {CI_METHOD}", fontsize="small")
    return Chart(f"time-{file_stem(workload)}", title, figure)


def cpu_utilization_chart(points: Sequence[Point], context: Mapping[str, Any]) -> Chart | None:
    """(process CPU + worker CPU) / (wall × cores) per workload, against workers: map mode,
    one line per executor (the other modes run the same work; seven lines at most a panel)."""
    points = [p for p in points if p.cpu_utilization is not None and p.mode == "map"]
    if not points:
        return None
    workloads = list(dict.fromkeys(p.workload for p in points))
    title = "CPU utilisation: (process + worker CPU) / (wall time × cores)"
    figure, axes = _figure(title, context, _grid_size(len(workloads)), *_grid(len(workloads)),
                           squeeze=False)
    flat = list(axes.flat)
    for ax, workload in zip(flat, workloads):
        mine = [p for p in points if p.workload == workload]
        for (_, executor, mode, lang), line in _ordered(by_series(mine)):
            ax.plot([p.workers for p in line], [p.cpu_utilization for p in line],
                    label=series_label(executor, mode, lang), **line_style(executor, mode, lang))
        ax.set_title(workload, fontsize="medium")
        ax.set_ylim(0, 1.05)
        _workers_axis(ax, [p.workers for p in mine])
    for ax in flat[len(workloads):]:
        ax.set_visible(False)
    _figure_legend(figure, flat[: len(workloads)])
    return Chart("cpu-utilization", title, figure)


# ---- overheads -----------------------------------------------------------------------------


def dispatch_chart(run: Run) -> Chart | None:
    """Nanoseconds per empty task per executor against workers, beside the bare-Asio floor."""
    rows = _family(run, "overhead:dispatch")
    if not rows:
        return None
    title = f"dispatch overhead: ns per empty task ({DISPATCH_TASKS:,} tasks per run)"
    figure, ax = _figure(title, run.context, (10, 5.5))
    by_executor = _by_executor(rows)
    reg = registry.current()
    references = {reg.reference(): f"{reg.reference()} (the caller runs them)"}
    references.update({floor: f"{floor}, the runtime alone (the floor for {executor})"
                       for floor, executor in reg.floors.items()})
    for executor, mine in by_executor.items():
        values = [(r.name.int_param("workers") or 1, _ns_per_task(r)) for r in mine]
        if executor in references:
            ax.axhline(values[0][1], color=executor_colour(executor), linestyle="--",
                       label=f"{references[executor]}: {values[0][1]:.0f} ns")
        else:
            ax.plot(*zip(*sorted(values)), label=executor, **line_style(executor))
    ax.set_yscale("log")
    _plain_axis(ax.yaxis)
    ax.set_ylabel("ns per task (log scale)")
    _workers_axis(ax, [r.name.int_param("workers") or 1 for r in rows])
    ax.set_xlabel("workers")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    return Chart("overhead-dispatch", title, figure)


def tax_chart(run: Run) -> Chart | None:
    """Each executor's interface tax (dispatch ÷ its runtime's floor) against workers."""
    taxes = interface_tax(run)
    if not taxes:
        return None
    title = "interface tax: ns per empty task through cbench ÷ the runtime alone"
    figure, ax = _figure(title, run.context, (10, 5.5))
    by_executor: dict[str, list[tuple[int, float]]] = {}
    for t in taxes:
        by_executor.setdefault(t.executor, []).append((t.workers, t.ratio))
    for executor, values in by_executor.items():
        ax.plot(*zip(*sorted(values)), label=executor, **line_style(executor))
    ax.axhline(1.0, color="0.5", linewidth=1, linestyle=":", label="no tax (1×)")
    ax.set_yscale("log")
    _plain_axis(ax.yaxis)
    ax.set_ylabel("dispatch ÷ native floor (log scale)")
    _workers_axis(ax, [t.workers for t in taxes])
    ax.set_xlabel("workers")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    return Chart("interface-tax", title, figure)


def nested_charts(run: Run) -> list[Chart]:
    """Per nested workload (fib, uts): ns per task against workers, a line per executor's
    fork-join, and dashed in the same colour its runtime's own fib at the same W (fib:native)."""
    charts = []
    nested = [b for b in run.benchmarks.values() if is_nested(b) and b.median]
    for workload in dict.fromkeys(b.name.family for b in nested):
        mine = [b for b in nested if b.name.family == workload]
        native = [b for b in _family(run, f"{workload}:native") if b.counter("ns_per_task")]
        title = f"{workload}: ns per task of the tree, through cbench and the runtime alone"
        figure, ax = _figure(title, run.context, (10, 5.5))
        lines: dict[tuple[str, str], list[tuple[int, float]]] = {}
        for b in mine + native:
            mode = "native" if b.name.family.endswith(":native") else b.name.mode
            lines.setdefault((b.name.executor or "?", mode), []).append(
                (b.name.int_param("workers") or 1, b.counter("ns_per_task") or b.median))
        for (executor, mode), values in sorted(lines.items(),
                                               key=lambda kv: (executor_rank(kv[0][0]), kv[0][1])):
            style = line_style(executor)
            if mode == "native":
                style.update(linestyle="--", markerfacecolor="white")
                label = f"{executor}: the runtime's own fib"
            else:
                label = executor if mode == "fork-join" else f"{executor} ({mode})"
            ax.plot(*zip(*sorted(values)), label=label, **style)
        ax.set_yscale("log")
        _plain_axis(ax.yaxis)
        ax.set_ylabel("ns per task (log scale)")
        _workers_axis(ax, [w for values in lines.values() for w, _ in values])
        ax.set_xlabel("workers")
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
        charts.append(Chart(f"nested-{file_stem(workload)}", title, figure))
    return charts


def lifecycle_chart(run: Run) -> Chart | None:
    """Time to build and destroy an executor against workers."""
    rows = _family(run, "overhead:lifecycle")
    if not rows:
        return None
    title = "lifecycle overhead: build and destroy the executor"
    figure, ax = _figure(title, run.context, (10, 5.5))
    for executor, mine in _by_executor(rows).items():
        values = sorted((r.name.int_param("workers") or 1, r.median) for r in mine)
        ax.plot(*zip(*values), label=executor, **line_style(executor))
    ax.set_yscale("log")
    _time_axis(ax.yaxis)
    ax.set_ylabel("build + teardown (log scale)")
    _workers_axis(ax, [r.name.int_param("workers") or 1 for r in rows])
    ax.set_xlabel("workers")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    return Chart("overhead-lifecycle", title, figure)


def memory_chart(run: Run) -> Chart | None:
    """Memory added per waiting task against the number of tasks, log-log: ``bytes_per_task``
    (the larger of the set size and the heap in use it adds), else ``pss_bytes_per_task``."""
    rows = [r for r in _family(run, "overhead:memory") if _bytes_per_task(r) is not None]
    if not rows:
        return None
    title = "memory per waiting task (proportional set size or heap in use, the larger)"
    figure, ax = _figure(title, run.context, (10, 5.5))
    dropped = 0
    for executor, mine in _by_executor(rows).items():
        values = sorted((r.name.int_param("tasks") or 0, _bytes_per_task(r) / 1024)
                        for r in mine)
        shown = [(n, kib) for n, kib in values if n > 0 and kib > 0]
        dropped += len(values) - len(shown)
        if shown:
            ax.plot(*zip(*shown), label=executor, **line_style(executor))
    ax.set_xscale("log")
    ax.set_yscale("log")
    _plain_axis(ax.xaxis)
    _plain_axis(ax.yaxis)
    ax.set_xlabel("tasks waiting at once" + (f" ({dropped} row(s) ≤ 0 not shown)" if dropped else ""))
    ax.set_ylabel("KiB per task")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    return Chart("overhead-memory", title, figure)


# ---- granularity ---------------------------------------------------------------------------


def granularity_chart(points: Sequence[GranularityPoint], metgs: Sequence[Metg],
                      context: Mapping[str, Any]) -> Chart | None:
    """Efficiency against task size, one panel per worker count, METG marked on each line."""
    points = [p for p in points if not p.native]  # the floors' METG is in the table beside
    metgs = [m for m in metgs if not m.native]
    if not points:
        return None
    workers = sorted({p.workers for p in points})
    title = "task granularity: efficiency against task size (METG: where it reaches 50%)"
    figure, axes = _figure(title, context, _grid_size(len(workers)), *_grid(len(workers)),
                           squeeze=False, sharey=True)
    flat = list(axes.flat)
    metg_of = {(m.executor, m.workers): m for m in metgs}
    for ax, w in zip(flat, workers):
        mine = [p for p in points if p.workers == w]
        for executor in sorted({p.executor for p in mine}, key=executor_rank):
            line = [p for p in mine if p.executor == executor]
            m = metg_of.get((executor, w))
            label = f"{executor} (METG {m.describe()})" if m else executor
            ax.plot([p.task_seconds * 1e6 for p in line], [p.efficiency for p in line],
                    label=label, **line_style(executor))
            if m and m.seconds is not None:
                ax.plot([m.seconds * 1e6], [0.5], marker="*", markersize=14,
                        color=executor_colour(executor), markeredgecolor="black", zorder=5)
        ax.axhline(0.5, color="0.4", linestyle=":", linewidth=1)
        ax.set_xscale("log")
        _plain_axis(ax.xaxis)
        ax.set_title(f"{w} worker{'s' if w > 1 else ''}", fontsize="medium")
        ax.set_xlabel("task size (µs of CPU work)")
        ax.set_ylim(0, 1.1)
        ax.legend(fontsize="x-small", loc="lower right")
    flat[0].set_ylabel("efficiency")
    for ax in flat[len(workers):]:
        ax.set_visible(False)
    return Chart("granularity", title, figure)


def link_chart(run: Run, executor: str = "mpi") -> Chart | None:
    """A run across hosts swept once per link setting (``Run.links``): the executor's
    granularity efficiency at its largest worker count, one line per setting, METG marked."""
    curves = []
    for link, benchmarks in run.links.items():
        points = [p for p in granularity_points(Run(run.path, run.context, benchmarks))
                  if p.executor == executor and not p.native]
        if points:
            w = max(p.workers for p in points)
            curves.append((link, [p for p in points if p.workers == w]))
    if len(curves) < 2:
        return None
    title = f"{executor} across hosts: efficiency against task size, per link (METG at 50%)"
    figure, axes = _figure(title, run.context, (7.5, 4.5), squeeze=False)
    ax = axes[0][0]
    styles = ["-", "--", ":", "-."]
    for i, (link, line) in enumerate(curves):
        seconds, at_smallest = metg([p.task_seconds for p in line], [p.efficiency for p in line])
        m = Metg(executor, line[0].workers, seconds, at_smallest)
        ax.plot([p.task_seconds * 1e6 for p in line], [p.efficiency for p in line],
                color=executor_colour(executor), linestyle=styles[i % len(styles)], marker="o",
                label=f"links {link}, W = {line[0].workers} (METG {m.describe()})")
        if seconds is not None:
            ax.plot([seconds * 1e6], [0.5], marker="*", markersize=14,
                    color=executor_colour(executor), markeredgecolor="black", zorder=5)
    ax.axhline(0.5, color="0.4", linestyle=":", linewidth=1)
    ax.set_xscale("log")
    _plain_axis(ax.xaxis)
    ax.set_xlabel("task size (µs of CPU work)")
    ax.set_ylabel("efficiency")
    ax.set_ylim(0, 1.1)
    ax.legend(fontsize="small", loc="lower right")
    return Chart("links", title, figure)


# ---- cost against work ---------------------------------------------------------------------


def scale_chart(fits: Sequence[ScaleFit], context: Mapping[str, Any]) -> Chart | None:
    """Time against scale on log-log axes, one panel per workload, one line per executor with
    its fitted exponent in the legend (1: the cost grows as the work does)."""
    if not fits:
        return None
    workloads = list(dict.fromkeys(f.workload for f in fits))
    title = "cost against work: time per run against the work's scale (fitted exponent)"
    figure, axes = _figure(title, context, _grid_size(len(workloads)), *_grid(len(workloads)),
                           squeeze=False)
    flat = list(axes.flat)
    for ax, w in zip(flat, workloads):
        for fit in sorted((f for f in fits if f.workload == w), key=lambda f: executor_rank(f.executor)):
            ax.plot([p.scale for p in fit.points], [p.seconds * 1e3 for p in fit.points],
                    label=f"{fit.executor} ×{fit.workers} (exponent {describe_exponent(fit.exponent)})",
                    **line_style(fit.executor))
        ax.set_xscale("log")
        ax.set_yscale("log")
        _plain_axis(ax.xaxis)
        ax.set_title(w, fontsize="medium")
        ax.set_xlabel("scale (work × S)")
        ax.set_ylabel("ms per run")
        ax.legend(fontsize="x-small", loc="upper left")
    for ax in flat[len(workloads):]:
        ax.set_visible(False)
    return Chart("scale", title, figure)


# ---- timeline ------------------------------------------------------------------------------


def timeline_chart(workload: str, trace: Sequence[TraceCase],
                   context: Mapping[str, Any]) -> Chart | None:
    """One panel per executor (its largest worker count, map mode): a row per worker, a bar
    per task — where the schedule left workers idle."""
    chosen: dict[str, TraceCase] = {}
    for case in trace:
        name = case.name
        if name.family != workload or name.lang != "cpp" or name.mode != "map" or not case.tasks:
            continue
        executor = name.executor or "?"
        if executor not in chosen or _workers_of(case) > _workers_of(chosen[executor]):
            chosen[executor] = case
    if not chosen:
        return None
    cases = [chosen[e] for e in sorted(chosen, key=executor_rank)]
    title = f"{workload}: timeline of the last iteration (one row per worker, one bar per task)"
    heights = [max(c.workers, 1) + 1.2 for c in cases]
    figure, axes = _figure(title, context, (11, 1.2 + 0.35 * sum(heights)), nrows=len(cases),
                           sharex=True, squeeze=False, gridspec_kw={"height_ratios": heights})
    # The panels share the time axis: a bar gets its task's name when it is wide on that axis.
    span = max(t.end for c in cases for t in c.tasks) - min(t.start for c in cases for t in c.tasks)
    for ax, case in zip(axes.flat, cases):
        colour = executor_colour(case.name.executor or "?")
        for t in case.tasks:
            ax.broken_barh([(t.start, max(t.end - t.start, 0.0))], (t.worker - 0.4, 0.8),
                           facecolors=colour, edgecolor="white", linewidth=0.5)
            if len(case.tasks) <= 32 and t.end - t.start >= 0.12 * span:  # room for the name
                ax.text((t.start + t.end) / 2, t.worker, t.task, ha="center", va="center",
                        fontsize=6, color="white", clip_on=True)
        ax.set_yticks(range(case.workers))
        ax.set_ylim(-0.6, case.workers - 0.4)
        ax.invert_yaxis()
        ax.set_ylabel("worker", fontsize="small")
        ax.set_title(case.name.key, fontsize="small", loc="left")
    _time_axis(axes.flat[-1].xaxis, log=False)
    axes.flat[-1].set_xlabel("time from the start of the iteration")
    return Chart(f"timeline-{file_stem(workload)}", title, figure)


# ---- history -------------------------------------------------------------------------------


def history_chart(name: str, entries: Sequence[Mapping[str, Any]],
                  steps: Sequence[Any] = ()) -> Chart:
    """A benchmark's median over the commits of the history, one line per machine (times from
    different machines are not comparable), error bars from the repetitions, and a dashed line
    before each commit where it stepped (``history.history_changes``)."""
    title = f"history of {name}"
    figure, ax = _figure(title, {"host_name": ", ".join(sorted({e["host_name"] for e in entries})),
                                 "num_cpus": "?"}, (max(8, 0.6 * len(entries) + 3), 5))
    for host in sorted({e["host_name"] for e in entries}):
        xs, ys, low, high = [], [], [], []
        for i, entry in enumerate(entries):
            if entry["host_name"] != host:
                continue
            times = entry["benchmarks"][name]["real_times"] or [entry["benchmarks"][name]["median"]]
            median = entry["benchmarks"][name]["median"]
            lo, hi = bootstrap_median_ci(times)
            xs.append(i)
            ys.append(median)
            low.append(max(median - lo, 0))
            high.append(max(hi - median, 0))
        ax.errorbar(xs, ys, yerr=[low, high], marker="o", capsize=3, label=host)
    for step in steps:
        at = next(i for i, e in enumerate(entries) if e["commit"] == step.commit
                  and e["host_name"] == step.host)
        ax.axvline(at - 0.5, color="tab:red", linestyle="--", linewidth=1)
        ax.annotate(f"{step.change * 100:+.0f}% at {step.commit[:8]}", (at - 0.5, 1), xycoords=(
            "data", "axes fraction"), xytext=(3, -12), textcoords="offset points",
            color="tab:red", fontsize="small")
    ax.set_xticks(range(len(entries)))
    ax.set_xticklabels([f"{e['commit'][:8]}\n{e['date'][:10]}" for e in entries], fontsize="small",
                       rotation=45 if len(entries) > 8 else 0)
    ax.set_ylabel("median real time")
    ax.set_ylim(bottom=0)
    _time_axis(ax.yaxis, log=False)
    ax.set_xlabel(f"commit (error bars: {CI_METHOD})")
    ax.legend(fontsize="small", title="machine")
    return Chart(f"history-{file_stem(name)}", title, figure)


# ---- helpers -------------------------------------------------------------------------------


def _figure(title: str, context: Mapping[str, Any], size: tuple[float, float], nrows: int = 1,
            ncols: int = 1, **subplots: Any) -> tuple[Figure, Any]:
    figure = Figure(figsize=size, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(nrows, ncols, **subplots)
    figure.suptitle(f"{title}\n{machine_line(context)}", fontsize="medium")
    return figure, axes


def _grid(panels: int) -> tuple[int, int]:
    columns = min(panels, 3)
    return -(-panels // columns), columns


def _grid_size(panels: int) -> tuple[float, float]:
    rows, columns = _grid(panels)
    return 4.2 * columns + 1.5, 3.6 * rows + 1.2


def _time_axis(axis: Any, log: bool = True) -> None:
    """Tick labels in human units (90 ms, 1.2 s); on a log axis at 1, 2 and 5 of each decade,
    so that a range within one decade still reads."""
    if log:
        axis.set_major_locator(ticker.LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        axis.set_minor_formatter(ticker.NullFormatter())
    axis.set_major_formatter(ticker.FuncFormatter(lambda value, _: seconds(value)))


def _plain_axis(axis: Any) -> None:
    """Plain numbers (200, not 2×10²) on a log axis, none on its minor ticks."""
    axis.set_major_formatter(ticker.FuncFormatter(lambda value, _: f"{value:g}"))
    axis.set_minor_formatter(ticker.NullFormatter())


def _workers_axis(ax: Axes, workers: Sequence[int]) -> None:
    ax.set_xscale("log", base=2)
    ticks = sorted(set(workers))
    ax.set_xticks(ticks)
    ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda value, _: f"{value:g}"))
    ax.xaxis.set_minor_locator(ticker.NullLocator())
    ax.grid(True, which="major", alpha=0.3)


def _errorbar(ax: Axes, line: Sequence[Point], attribute: str, style: dict[str, Any],
              label: str) -> None:
    values = [getattr(p, attribute) for p in line]
    intervals = [getattr(p, attribute + "_ci") or (v, v) for p, v in zip(line, values)]
    error = [[max(v - lo, 0) for v, (lo, _) in zip(values, intervals)],
             [max(hi - v, 0) for v, (_, hi) in zip(values, intervals)]]
    ax.errorbar([p.workers for p in line], values, yerr=error, capsize=3, label=label, **style)


def _ordered(lines: Mapping[tuple[str, str, str, str], list[Point]]) -> list[tuple[Any, list[Point]]]:
    order = {"map": 0, "as-completed": 1, "cold": 2, "cold-cache": 3}
    return sorted(lines.items(), key=lambda item: (item[0][3] != "cpp", executor_rank(item[0][1]),
                                                    order.get(item[0][2], 9), item[0][2]))


def _figure_legend(figure: Figure, axes: Sequence[Axes]) -> None:
    handles: dict[str, Any] = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(label, handle)
    # Beside the panels; save_chart's tight bounding box keeps it in the file.
    figure.legend(handles.values(), handles.keys(), loc="upper left", bbox_to_anchor=(1.0, 0.93),
                  fontsize="small")


def _workers_of(case: TraceCase) -> tuple[int, int]:
    """The case's worker count by its name (a coroutine case may use fewer rows), then rows."""
    return case.name.int_param("workers") or 0, case.workers


def _family(run: Run, family: str) -> list[Benchmark]:
    return [b for b in run.benchmarks.values() if b.name.family == family and b.median]


def _by_executor(rows: Sequence[Benchmark]) -> dict[str, list[Benchmark]]:
    grouped: dict[str, list[Benchmark]] = {}
    for row in rows:
        grouped.setdefault(row.name.executor or "?", []).append(row)
    return {e: grouped[e] for e in sorted(grouped, key=executor_rank)}


def _bytes_per_task(row: Benchmark) -> float | None:
    counter = row.counter("bytes_per_task")
    return counter if counter is not None else row.counter("pss_bytes_per_task")


def _ns_per_task(row: Benchmark) -> float:
    counter = row.counter("ns_per_task")
    return counter if counter is not None else row.median / DISPATCH_TASKS * 1e9
