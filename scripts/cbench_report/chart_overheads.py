"""The charts of what the models cost beside the work: dispatch and the interface tax, start-up and
memory, the granularity curves and METG, the links, cost against work, and nested fork-join."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from . import registry
from .load import Run
from .metg import GranularityPoint, Metg, granularity_points, metg
from .nested import is_nested
from .scale import ScaleFit, describe_exponent
from .style import executor_colour, executor_rank, line_style
from .tables import interface_tax
from .chart_base import (DISPATCH_TASKS, Chart, _by_executor, _bytes_per_task, _family, _figure,
                         _grid, _grid_size, _ns_per_task, _plain_axis, _time_axis, _workers_axis,
                         file_stem)


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
