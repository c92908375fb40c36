"""How every chart draws a series: one fixed colour per executor on every chart, the mode as
line style and marker, Python peers dashed in their model's colour; and the title line that
says which machine, corpus and preset a chart comes from."""
from __future__ import annotations

import zlib
from collections.abc import Mapping
from typing import Any

EXECUTOR_ORDER = ("sequential", "thread", "pool", "tbb", "fork", "coro", "mpi")
EXECUTOR_COLOURS = {
    "sequential": "#404040",
    "thread": "#1f77b4",
    "pool": "#ff7f0e",
    "tbb": "#2ca02c",
    "fork": "#d62728",
    "coro": "#9467bd",
    "mpi": "#8c564b",
    "asio-co_spawn": "#e377c2",  # the bare-Asio floor drawn next to coro
}
# For executors this list does not know yet: a colour chosen by the name, so still the same one
# on every chart.
FALLBACK_COLOURS = ("#17becf", "#bcbd22", "#7f7f7f", "#aec7e8", "#98df8a", "#ff9896")
MODE_LINESTYLES: dict[str, Any] = {"map": "-", "as-completed": "-.", "cold": ":",
                                   "cold-cache": (0, (6, 2, 1, 2, 1, 2))}
MODE_MARKERS = {"map": "o", "as-completed": "s", "cold": "^", "cold-cache": "v"}
PYTHON_LINESTYLE = "--"
IDEAL_STYLE = {"color": "0.55", "linewidth": 5, "alpha": 0.45, "zorder": 0}


def executor_colour(executor: str) -> str:
    if executor in EXECUTOR_COLOURS:
        return EXECUTOR_COLOURS[executor]
    return FALLBACK_COLOURS[zlib.crc32(executor.encode()) % len(FALLBACK_COLOURS)]


def executor_rank(executor: str) -> tuple[int, str]:
    """Sort key: the contract's order of executors, unknown ones after, by name."""
    rank = EXECUTOR_ORDER.index(executor) if executor in EXECUTOR_ORDER else len(EXECUTOR_ORDER)
    return rank, executor


def line_style(executor: str, mode: str = "map", lang: str = "cpp") -> dict[str, Any]:
    """Keyword arguments for ``Axes.plot``/``errorbar`` of one series."""
    python = lang == "python"
    return {
        "color": executor_colour(executor),
        "linestyle": PYTHON_LINESTYLE if python else MODE_LINESTYLES.get(mode, "-"),
        "marker": MODE_MARKERS.get(mode, "D"),
        "markerfacecolor": "white" if python else executor_colour(executor),
    }


def series_label(executor: str, mode: str = "map", lang: str = "cpp") -> str:
    details = [d for d in (mode if mode != "map" else "", "Python" if lang == "python" else "") if d]
    return f"{executor} ({', '.join(details)})" if details else executor


def machine_line(context: Mapping[str, Any]) -> str:
    """host (N CPUs, C cores used) · corpus K · preset P · commit C"""
    host = context.get("host_name", "unknown host")
    cpus, cores = context.get("num_cpus"), context.get("cbench_cores")
    machine = f"{host} ({cpus} CPUs" + (f", {cores} cores used)" if cores else ")")
    parts = [machine, f"corpus {context.get('cbench_corpus', 'unknown')}",
             f"preset {context.get('cbench_preset', 'unknown')}"]
    if context.get("cbench_commit"):
        parts.append(f"commit {str(context['cbench_commit'])[:12]}")
    return " · ".join(parts)
