"""The HTML report: one self-contained page (charts embedded as base64 PNG, no external
file or script), so it can be uploaded as a single CI artifact and opened anywhere."""
from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from html import escape

from .charts import file_stem
from .languages import HEADERS as LANGUAGE_HEADERS
from .languages import language_tables
from .load import Run
from .metg import Metg
from .nested import HEADERS as NESTED_HEADERS
from .nested import NOTE as NESTED_NOTE
from .nested import nested_tables, table_note
from .per_task import PER_TASK_HEADERS, per_task_note, per_task_rows
from .scale import HEADERS as SCALE_HEADERS
from .scale import NOTE as SCALE_NOTE
from .scale import scale_fits, scale_points, scale_rows
from .scaling import Point
from .stats import CI_METHOD
from .style import machine_line
from .tables import (FASTEST_HEADERS, METG_HEADERS, TAX_HEADERS, TAX_NOTE, WORKLOAD_HEADERS,
                     anomaly_warnings, context_rows, fastest_rows, interface_tax, metg_rows,
                     ranking_note, tax_rows, wake_rows, warnings, workload_rows, WAKE_HEADERS)

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; padding: 0 1em; max-width: 1200px;
       color: #222; }
table { border-collapse: collapse; margin: 1em 0; max-width: 100%; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; overflow-wrap: anywhere; }
table.fastest td:last-child { text-align: left; }
th:first-child, td:first-child { text-align: left; }
th { background: #f2f2f2; }
figure { margin: 1em 0; }
figure img { max-width: 100%; }
.warning { background: #fff3cd; border: 1px solid #e0c060; padding: 0.5em 1em; }
.context td { text-align: left; font-family: monospace; font-size: 0.9em; }
"""


@dataclass(frozen=True)
class EmbeddedChart:
    stem: str
    title: str
    png: bytes


def render_html(run: Run, points: Sequence[Point], metgs: Sequence[Metg],
                charts: Sequence[EmbeddedChart], counted: Mapping[str, Any] | None = None,
                counted_path: Path | None = None) -> str:
    """The page: the answers (fastest per workload with its ties) and the warnings, then per
    workload its table and charts, then the other charts, METG and the whole context."""
    placed: set[str] = set()
    body = [f"<h1>cbench results</h1><p>{escape(machine_line(run.context))}</p>"]
    # The answers first: the fastest per workload with its ties, then what to distrust.
    if points:
        body.append('<h2 id="fastest">Fastest per workload</h2>'
                    + _table(FASTEST_HEADERS, fastest_rows(points), "fastest")
                    + f"<p>{escape(ranking_note(points))}</p>")
    body += [f'<p class="warning">{escape(w)}</p>'
             for w in warnings(run) + anomaly_warnings(points)]
    if points:
        body.append("<p>Per workload: " + " · ".join(
            f'<a href="#workload-{escape(w)}">{escape(w)}</a>' for w in workload_rows(points))
            + "</p>")
    languages = {t.workload: t for t in language_tables(points, run.context)}
    for workload, rows in workload_rows(points).items():
        body.append(f'<h2 id="workload-{escape(workload)}">{escape(workload)}</h2>')
        body.append(_table(WORKLOAD_HEADERS, rows))
        if workload in languages:
            t = languages[workload]
            body.append(f'<h3>C++ and Python</h3>{_table(LANGUAGE_HEADERS, t.rows, "languages")}'
                        f'<p class="languages">{escape(t.sentence)}</p>')
        mine = {f"{kind}-{file_stem(workload)}" for kind in ("speedup", "time", "timeline")}
        body += [_figure(c) for c in charts if c.stem in mine]
        placed |= mine
    body.append(f"<p>Intervals: {escape(CI_METHOD)}.</p>")
    others = [c for c in charts if c.stem not in placed and not c.stem.startswith("nested-")]
    if others:
        body.append("<h2>Utilisation, overheads, granularity</h2>")
        body += [_figure(c) for c in others]
    taxes = interface_tax(run)
    if taxes:
        body.append("<h2>Interface tax (dispatch ÷ the runtime's own floor)</h2>"
                    + _table(TAX_HEADERS, tax_rows(taxes)) + f"<p>{escape(TAX_NOTE)}</p>")
    per_task = per_task_rows(run, counted)
    if per_task:
        body.append("<h2>Per task, by executor (10,000 empty tasks)</h2>"
                    + _table(PER_TASK_HEADERS, per_task)
                    + f"<p>{escape(per_task_note(counted, counted_path))}</p>")
    wakes = wake_rows(run)
    if wakes:
        body.append("<h2>Start-up of a run (overhead:wake: W empty tasks after the workers slept)"
                    "</h2>" + _table(WAKE_HEADERS, wakes))
    if metgs:
        body.append("<h2>METG (smallest task at 50% efficiency)</h2>" + _table(METG_HEADERS, metg_rows(metgs)))
    nested = nested_tables(run)
    if nested:
        body.append("<h2 id=\"nested\">Nested fork-join (ns per task, beside the runtime's own fib)</h2>")
        for t in nested:
            body.append(f"<h3>{escape(t.workload)}</h3>" + _table(NESTED_HEADERS, t.rows))
            if table_note(t):
                body.append(f"<p>{escape(table_note(t))}</p>")
        body += [_figure(c) for c in charts if c.stem.startswith("nested-")]
        body.append(f"<p>{escape(NESTED_NOTE)}</p>")
    fits = scale_fits(scale_points(run))
    if fits:
        body.append("<h2>Cost against work (--cbench_scale)</h2>"
                    + _table(SCALE_HEADERS, scale_rows(fits)) + f"<p>{escape(SCALE_NOTE)}</p>")
    body.append("<h2>Context</h2>" + _table(["key", "value"], context_rows(run), "context"))
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>cbench — {escape(machine_line(run.context))}</title><style>{STYLE}</style>"
            "</head><body>\n" + "\n".join(body) + "\n</body></html>\n")


def _figure(chart: EmbeddedChart) -> str:
    data = base64.b64encode(chart.png).decode("ascii")
    return (f'<figure id="chart-{escape(chart.stem)}"><img alt="{escape(chart.title)}" '
            f'src="data:image/png;base64,{data}"><figcaption>{escape(chart.title)}</figcaption></figure>')


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], css: str = "") -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    attribute = f' class="{css}"' if css else ""
    return f"<table{attribute}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
