"""The counted stage's own measurement: its false alarms and what it catches, on counted runs of
one binary against itself (``scripts/report count --runs N``).

The runs are split in two halves: the first half's A/A spreads are the ones the trials judge
with (``count_gate.Spreads``), and the trials are pairs of the second half, so that no trial is
judged by a spread learned from itself. Each pair is replayed:

- as measured: any regression is a false alarm;
- with +2% of instructions in every row of one workload (each workload in turn): caught when a
  regression names that workload;
- with one more system call per task in one executor's dispatch rows (``overhead:dispatch``,
  each executor in turn), and with that dispatch's instructions doubled: caught when a
  regression names that executor.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import combinations
from typing import Any

from .count_gate import Spreads, judge_both, per_task_counts
from .names import parse_name
from .text import text_table

WORK_CHANGE = 1.02


def _per_task(doc: Mapping[str, Any]) -> dict[str, dict[str, float]]:
    return per_task_counts(doc)


def _injected(b: dict[str, dict[str, float]], metric: str, rows, change) -> dict:
    out = {m: dict(v) for m, v in b.items()}
    for key in rows:
        out[metric][key] = change(out[metric][key])
    return out


def trials(docs: Sequence[Mapping[str, Any]], spreads: Spreads) -> dict[str, dict[str, int]]:
    """Per kind of trial: how many trials ran and how many failed (A/A) or caught the change."""
    runs = [_per_task(doc) for doc in docs]
    keys = sorted(set.intersection(*(set(r["instructions"]) for r in runs))) if runs else []
    workloads = sorted({k.split("/", 1)[0] for k in keys if not k.startswith("overhead:")})
    dispatch = {}
    for k in keys:
        name = parse_name(k)
        if name.family == "overhead:dispatch" and name.executor:
            dispatch.setdefault(name.executor, []).append(k)
    table: dict[str, dict[str, int]] = {}

    def tally(kind: str, hit: bool) -> None:
        row = table.setdefault(kind, {"trials": 0, "hits": 0})
        row["trials"] += 1
        row["hits"] += int(hit)

    for a, b in combinations(runs, 2):
        result = judge_both(a, b, spreads)
        tally("A/A (false alarm)", bool(result.regressions))
        for w in workloads:
            rows = [k for k in keys if k.startswith(w + "/")]
            b2 = _injected(b, "instructions", rows, lambda x: x * WORK_CHANGE)
            found = judge_both(a, b2, spreads).regressions
            tally("+2% instructions in one workload", any(v.workload == w for v in found))
        for e, rows in sorted(dispatch.items()):
            for kind, metric, change in (
                    ("+1 system call per task in one executor's dispatch", "syscalls",
                     lambda x: x + 1),
                    ("2x one executor's dispatch instructions", "instructions", lambda x: x * 2)):
                found = judge_both(a, _injected(b, metric, rows, change), spreads).regressions
                tally(kind, any(v.workload == "overhead:dispatch" and e in v.executors
                                for v in found))
    return table


def format_trials(table: Mapping[str, Mapping[str, int]], runs: int, learned_from: int) -> str:
    rows = [[kind, f"{v['hits']} of {v['trials']}"] for kind, v in table.items()]
    return (f"Counted lens: {runs} counted runs of one binary; spreads learned from "
            f"{learned_from} of them, trials on the pairs of the others\n\n"
            + text_table(["trial", "gates failing (A/A) or naming the target"], rows))
