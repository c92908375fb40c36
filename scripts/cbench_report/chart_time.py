"""The charts over time: the timeline of a workload's tasks per worker, and a benchmark over the
commits of its history."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .stats import CI_METHOD, bootstrap_median_ci
from .style import executor_colour, executor_rank
from .trace import TraceCase
from .chart_base import Chart, file_stem, _figure, _time_axis, _workers_of


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
