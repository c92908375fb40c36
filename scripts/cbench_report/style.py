"""How every chart draws a series: one colour per executor on every chart (by its place in the
run's registry), the mode as line style and marker, Python peers dashed in their model's colour;
and the title line that says which machine, corpus and preset a chart comes from."""
from __future__ import annotations

import zlib
from collections.abc import Mapping
from typing import Any

from . import registry

# The reference is drawn in grey; the others take these in the registry's order.
REFERENCE_COLOUR = "#404040"
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#17becf", "#bcbd22", "#aec7e8", "#98df8a", "#ff9896")
# For a name the registry does not list (a Python peer's own, a runtime's floor): a colour chosen
# by the name, so still the same one on every chart.
FALLBACK_COLOURS = ("#7f7f7f", "#c5b0d5", "#c49c94", "#f7b6d2", "#dbdb8d", "#9edae5")
MODE_LINESTYLES: dict[str, Any] = {"map": "-", "as-completed": "-.", "cold": ":",
                                   "cold-cache": (0, (6, 2, 1, 2, 1, 2))}
MODE_MARKERS = {"map": "o", "as-completed": "s", "cold": "^", "cold-cache": "v"}
PYTHON_LINESTYLE = "--"
IDEAL_STYLE = {"color": "0.55", "linewidth": 5, "alpha": 0.45, "zorder": 0}


def executor_colour(executor: str) -> str:
    reg = registry.current()
    if reg.is_reference(executor):
        return REFERENCE_COLOUR
    others = [n for n in reg.order if not reg.is_reference(n)]
    if executor in others:
        return PALETTE[others.index(executor) % len(PALETTE)]
    return FALLBACK_COLOURS[zlib.crc32(executor.encode()) % len(FALLBACK_COLOURS)]


def executor_rank(executor: str) -> tuple[int, str]:
    """Sort key: the registry's order of executors, unknown ones after, by name."""
    order = registry.current().order
    rank = order.index(executor) if executor in order else len(order)
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
