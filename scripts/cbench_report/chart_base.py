"""What every chart shares: the Chart, how it is saved, the figure and its axes, and the rows a
chart reads (charts.py draws them)."""
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

from .load import Benchmark, Run
from .scaling import Point
from .style import executor_rank, machine_line
from .text import seconds
from .trace import TraceCase
from .files import make_folder, whole


DISPATCH_TASKS = 10_000  # empty tasks per iteration of a dispatch case (docs/results-format.md)


@dataclass(frozen=True)
class Chart:
    stem: str  # file name without extension
    title: str
    figure: Figure


def save_chart(chart: Chart, out_dir: Path) -> list[Path]:
    """Writes ``<stem>.png`` and ``<stem>.svg``; returns their paths."""
    make_folder(out_dir)
    paths = [out_dir / f"{chart.stem}.png", out_dir / f"{chart.stem}.svg"]
    with whole(paths[0]) as tmp:
        chart.figure.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
    # No date in the SVG, so an unchanged chart is an unchanged file.
    with whole(paths[1]) as tmp:
        chart.figure.savefig(tmp, format="svg", bbox_inches="tight", metadata={"Date": None})
    return paths


def file_stem(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-") or "chart"


# ---- experiments ---------------------------------------------------------------------------


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
