"""Nested fork-join (docs/design.md, "Nested fork-join"): the rows of the nested experiments
(``fib``, ``uts``: ``WORKLOAD/executor:E/mode:fork-join|blocking|not-supported/workers:W``) and
the runtimes' own fib (``fib:native/executor:E/workers:W``), as one table per workload: each
executor's ns per task and tasks per second at each W, its speedup against the sequential
reference's tree, and for ``fib`` the runtime's own fib at the same W beside it. A row that ended
in a deadlock (the pool whose waiting workers block) and an executor without the capability are
results, not failures: the table says "deadlock" and "not supported" where the figures would be.
"""
from __future__ import annotations

from dataclasses import dataclass

from . import registry
from .load import Benchmark, Run
from .names import NESTED_MODES
from .style import executor_rank

NATIVE_FAMILY_SUFFIX = ":native"
MODE_ORDER = {"fork-join": 0, "blocking": 1, "not-supported": 2}
HEADERS = ["executor", "mode", "workers", "ns per task", "tasks/s", "speedup",
           "runtime's own (ns per task)"]
NOTE = ("ns per task: the run's wall time divided by the tasks of its tree (fib: every call at or "
        "above the cutoff, each forking one child; uts: every node), as libfork reports it. "
        "\"Runtime's own\" is the same fib written directly against the runtime (oneTBB's "
        "task_group, OpenMP's task and taskwait, Asio's coroutines, plain recursion) at the same W. "
        "The pool's blocking mode waits without helping: a tree deeper than W leaves every worker "
        "asleep, which it reports as a deadlock instead of hanging.")


def is_nested(b: Benchmark) -> bool:
    return b.name.mode in NESTED_MODES and "executor" in b.name.params


def is_native_fib(b: Benchmark) -> bool:
    return b.name.family.endswith(NATIVE_FAMILY_SUFFIX) and b.name.family != "granularity:native" \
        and not b.name.family.startswith("overhead:")


def is_expected_outcome(message: str) -> bool:
    """A nested row's error that is its result: a deadlock shown on purpose, or no support."""
    return message.startswith("deadlock: ") or message.startswith("not supported: ")


@dataclass(frozen=True)
class NestedTable:
    workload: str
    rows: list[list[str]]
    not_supported: list[str]
    deadlocks: list[str]  # "pool at W = 2", one per row that deadlocked


def _ns(value: float | None) -> str:
    return "–" if value is None else f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


def _rate(value: float | None) -> str:
    if value is None:
        return "–"
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if value >= scale:
            return f"{value / scale:.3g} {unit}"
    return f"{value:.3g}"


def nested_tables(run: Run) -> list[NestedTable]:
    """One table per nested workload, in the order its rows come in the run."""
    nested = [b for b in run.benchmarks.values() if is_nested(b)]
    natives = {(b.name.family[: -len(NATIVE_FAMILY_SUFFIX)], b.name.executor,
                b.name.int_param("workers") or 1): b
               for b in run.benchmarks.values() if is_native_fib(b)}
    tables: list[NestedTable] = []
    for workload in dict.fromkeys(b.name.family for b in nested):
        mine = sorted((b for b in nested if b.name.family == workload),
                      key=lambda b: (executor_rank(b.name.executor or "?"),
                                     MODE_ORDER.get(b.name.mode, 9),
                                     b.name.int_param("workers") or 1))
        reference = next((b for b in mine if b.name.mode == "fork-join" and b.median
                          and (b.name.int_param("workers") or 1) == 1
                          and registry.current().is_reference(b.name.executor or "")), None)
        rows, unsupported, deadlocks = [], [], []
        for b in mine:
            executor, workers = b.name.executor or "?", b.name.int_param("workers") or 1
            error = b.errors[0] if b.errors else None
            if b.name.mode == "not-supported":
                unsupported.append(executor)
                rows.append([executor, "—", "—", "not supported", "", "", ""])
                continue
            native = natives.get((workload, executor, workers))
            native_cell = (_ns(native.counter("ns_per_task"))
                           if native is not None and native.median else "—")
            if error is not None:
                cell = "deadlock" if error.startswith("deadlock: ") else f"failed: {error[:60]}"
                if error.startswith("deadlock: "):
                    deadlocks.append(f"{executor} ({b.name.mode}) at W = {workers}")
                rows.append([executor, b.name.mode, str(workers), cell, "", "", native_cell])
                continue
            speedup = (f"{reference.median / b.median:.2f}"
                       if reference is not None and b.median else "–")
            rows.append([executor, b.name.mode, str(workers), _ns(b.counter("ns_per_task")),
                         _rate(b.counter("tasks_per_second")), speedup, native_cell])
        tables.append(NestedTable(workload, rows, unsupported, deadlocks))
    return tables


def table_note(table: NestedTable) -> str:
    parts = []
    if table.not_supported:
        parts.append("Not supported (no nested fork-join): " + ", ".join(table.not_supported) + ".")
    if table.deadlocks:
        parts.append("Deadlocked, as a pool whose waiting workers block must once the tree is "
                     "deeper than W: " + ", ".join(table.deadlocks) + ".")
    return " ".join(parts)
