"""The charts, drawn with matplotlib's object API on the Agg canvas (no pyplot, so no global
figure state): each function takes data and returns a ``Chart`` or None when the run has
nothing for it; ``save_chart`` writes it as PNG and SVG."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from . import registry
from .load import Run
from .metg import granularity_points, metg_table
from .scale import scale_fits, scale_points
from .scaling import Point, by_series, experiment_points
from .stats import CI_METHOD
from .style import IDEAL_STYLE, executor_colour, line_style, series_label
from .tables import anomalies
from .text import seconds
from .trace import TraceCase
# What the other modules draw, and what callers import from here (save_chart, history_chart, ...).
from .chart_base import (Chart, _errorbar, _figure, _figure_legend, _grid, _grid_size,  # noqa: F401
                         _ordered, _time_axis, _workers_axis, file_stem, save_chart)
from .chart_overheads import (dispatch_chart, granularity_chart, lifecycle_chart,  # noqa: F401
                              link_chart, memory_chart, nested_charts, scale_chart, tax_chart)
from .chart_time import history_chart, timeline_chart  # noqa: F401


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
