"""The Markdown summary (``summary.md``): short enough for a CI job summary
(``$GITHUB_STEP_SUMMARY``), the full tables folded away."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .languages import HEADERS as LANGUAGE_HEADERS
from .languages import language_tables
from .load import Run
from .metg import Metg, granularity_points, metg_table
from .nested import HEADERS as NESTED_HEADERS
from .nested import NOTE as NESTED_NOTE
from .nested import nested_tables, table_note
from .per_task import PER_TASK_HEADERS, per_task_note, per_task_rows
from .scale import HEADERS as SCALE_HEADERS
from .scale import NOTE as SCALE_NOTE
from .scale import scale_fits, scale_points, scale_rows
from .scaling import Point, experiment_points
from .stats import CI_METHOD
from .style import machine_line
from .tables import (FASTEST_HEADERS, METG_HEADERS, TAX_HEADERS, TAX_NOTE, WORKLOAD_HEADERS,
                     anomaly_warnings, fastest_rows, interface_tax, metg_rows, ranking_note,
                     tax_rows, wake_rows, warnings, workload_rows, WAKE_HEADERS)
from .text import markdown_table, seconds


LINK_HEADERS = ["links", "workload", "mpi W", "mpi time", "sequential time", "speedup"]


def link_rows(run: Run, executor: str = "mpi") -> list[list[str]]:
    """A run swept once per link setting (``Run.links``): per setting and workload, the
    executor at its fastest worker count (map mode) against that setting's sequential row, then
    its METG at each worker count."""
    if len(run.links) < 2:
        return []
    rows = []
    for link, benchmarks in run.links.items():
        setting = Run(run.path, run.context, benchmarks)
        points = [p for p in experiment_points(setting) if p.mode == "map" and p.lang == "cpp"]
        for workload in dict.fromkeys(p.workload for p in points):
            mine = [p for p in points if p.workload == workload and p.executor == executor]
            reference = [p for p in points if p.workload == workload and p.executor == "sequential"]
            if not mine or not reference:
                continue
            best = min(mine, key=lambda p: p.seconds)
            rows.append([link, workload, str(best.workers), seconds(best.seconds),
                         seconds(reference[0].seconds),
                         f"{reference[0].seconds / best.seconds:.2f}"])
        for m in metg_table(granularity_points(setting)):
            if m.executor == executor and not m.native:
                rows.append([link, "METG (granularity)", str(m.workers), m.describe(), "", ""])
    return rows


def render_summary(run: Run, points: Sequence[Point], metgs: Sequence[Metg],
                   counted: Mapping[str, Any] | None = None, counted_path: Path | None = None
                   ) -> str:
    parts = [f"## cbench results\n\n{machine_line(run.context)}"]
    parts += [f"> :warning: {w}" for w in warnings(run) + anomaly_warnings(points)]
    if points:
        parts.append("### Fastest per workload\n\n" + markdown_table(
            FASTEST_HEADERS, fastest_rows(points)) + "\n\n" + ranking_note(points))
        details = [f"#### {w}\n\n{markdown_table(WORKLOAD_HEADERS, rows)}"
                   for w, rows in workload_rows(points).items()]
        parts.append("<details><summary>Every executor at its best worker count</summary>\n\n"
                     + "\n\n".join(details) + f"\n\nIntervals: {CI_METHOD}.\n\n</details>")
        languages = language_tables(points, run.context)
        if languages:
            parts.append("### C++ and Python\n\n" + "\n\n".join(
                f"#### {t.workload}\n\n{markdown_table(LANGUAGE_HEADERS, t.rows)}\n\n{t.sentence}"
                for t in languages))
    taxes = interface_tax(run)
    if taxes:
        parts.append("### Interface tax (dispatch ÷ the runtime's own floor)\n\n"
                     + markdown_table(TAX_HEADERS, tax_rows(taxes)) + "\n\n" + TAX_NOTE)
    per_task = per_task_rows(run, counted)
    if per_task:
        parts.append("### Per task, by executor (10,000 empty tasks)\n\n"
                     + markdown_table(PER_TASK_HEADERS, per_task) + "\n\n"
                     + per_task_note(counted, counted_path))
    wakes = wake_rows(run)
    if wakes:
        parts.append("### Start-up of a run (overhead:wake: W empty tasks after the workers slept)"
                     "\n\n" + markdown_table(WAKE_HEADERS, wakes))
    if metgs:
        parts.append("### METG (smallest task at 50% efficiency)\n\n"
                     + markdown_table(METG_HEADERS, metg_rows(metgs)))
    nested = nested_tables(run)
    if nested:
        parts.append("### Nested fork-join (ns per task, beside the runtime's own fib)\n\n"
                     + "\n\n".join(f"#### {t.workload}\n\n{markdown_table(NESTED_HEADERS, t.rows)}"
                                   + (f"\n\n{table_note(t)}" if table_note(t) else "")
                                   for t in nested) + "\n\n" + NESTED_NOTE)
    links = link_rows(run)
    if links:
        parts.append("### Across hosts, per link setting (mpi against sequential)\n\n"
                     + markdown_table(LINK_HEADERS, links))
    fits = scale_fits(scale_points(run))
    if fits:
        parts.append("### Cost against work (--cbench_scale)\n\n"
                     + markdown_table(SCALE_HEADERS, scale_rows(fits)) + "\n\n" + SCALE_NOTE)
    return "\n\n".join(parts) + "\n"
