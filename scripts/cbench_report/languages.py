"""C++ against its Python peer: per workload, the best time of each concurrency model in each
language and their ratio, and one sentence, drawn from those numbers, saying what they show.

A model's best time is its fastest row over worker counts and modes, cold start-up rows left out
(they time something else). The sentence is chosen by the numbers, not by the workload's name:
a task too small to share out, waiting work, Python's threads held to one core by the GIL, or
both languages spending their time in the same native library.
"""
from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import registry
from .load import UnusableInput, read_document

from .scaling import Point, best_points
from .style import executor_rank
from .tables import same_time
from .text import ratio, seconds
from .files import write_text

HEADERS = ["model", "C++ best (W)", "Python best (W)", "Python / C++"]
WARM_MODES = ("map", "as-completed")
# Below this speedup Python's threads are taken as held to one core; within this band of one
# sequential time the two languages are taken as running the same code.
GIL_BOUND_SPEEDUP = 1.3
SAME_CODE_BAND = (0.75, 1.33)


@dataclass(frozen=True)
class LanguageTable:
    workload: str
    rows: list[list[str]]
    sentence: str


def language_tables(points: Sequence[Point], context: Mapping[str, Any]) -> list[LanguageTable]:
    """One table per workload that has Python rows, in workload order."""
    workloads = sorted({p.workload for p in points if p.lang == "python"})
    return [t for t in (_table(w, [p for p in points if p.workload == w], context) for w in workloads)
            if t is not None]


def _best(points: Sequence[Point], lang: str) -> dict[str, Point]:
    """Per model, the fastest of its warm lines at their best worker counts."""
    best: dict[str, Point] = {}
    for p in best_points(points):
        if p.lang == lang and p.mode in WARM_MODES:
            if p.executor not in best or p.seconds < best[p.executor].seconds:
                best[p.executor] = p
    return best


def _table(workload: str, points: Sequence[Point], context: Mapping[str, Any]) -> LanguageTable | None:
    cpp, python = _best(points, "cpp"), _best(points, "python")
    if not cpp or not python:
        return None
    rows = []
    for model in sorted(set(cpp) | set(python), key=executor_rank):
        c, p = cpp.get(model), python.get(model)
        rows.append([model, _cell(c), _cell(p),
                     ratio(p.seconds / c.seconds) + "×" if c and p else "–"])
    kind = str(context.get(f"cbench_work_kind/{workload}", "cpu")).strip() or "cpu"
    return LanguageTable(workload, rows, describe(cpp, python, kind) + _libraries(workload, context))


# The native code each side of a workload runs, from the two runs' contexts, where both say it.
NATIVE_CODE = {"eigen": ("cbench_eigen_solver", "numpy_blas", "NumPy's eigvals (dgeev) over")}


def _libraries(workload: str, context: Mapping[str, Any]) -> str:
    cpp_key, python_key, python_call = NATIVE_CODE.get(workload, ("", "", ""))
    cpp_side, python_side = context.get(cpp_key), context.get(python_key)
    if not cpp_side or not python_side:
        return ""
    return f" C++ solves with {cpp_side}; Python with {python_call} {python_side}."


def _cell(p: Point | None) -> str:
    return f"{seconds(p.seconds)} ({p.workers})" if p else "–"


def _speedup(best: Mapping[str, Point], model: str) -> float | None:
    p = best.get(model)
    return p.speedup if p is not None else None


def describe(cpp: Mapping[str, Point], python: Mapping[str, Point], kind: str) -> str:
    """The sentence under a workload's table."""
    fastest_cpp = min(cpp.values(), key=lambda p: p.seconds)
    fastest_py = min(python.values(), key=lambda p: p.seconds)
    overall = (f"fastest C++ {fastest_cpp.executor} {seconds(fastest_cpp.seconds)} against "
               f"Python {fastest_py.executor} {seconds(fastest_py.seconds)} "
               + ("(about the same)" if same_time(fastest_py, fastest_cpp)
                  else f"({fastest_py.seconds / fastest_cpp.seconds:.1f}×)"))
    best_speedups = [p.speedup for p in (fastest_cpp, fastest_py) if p.speedup is not None]
    if best_speedups and max(best_speedups) <= 1.0:
        return ("The task is too small to share out: no concurrent model beats a plain loop in "
                f"either language, and what the models differ by is their dispatch cost; {overall}.")
    reg = registry.current()

    def first(points: Mapping[str, Point], workers: str) -> float | None:
        """The speedup of the first model (in the registry's order) whose workers are those."""
        return next((s for s in (_speedup(points, n) for n in reg.of_kind(workers))
                     if s is not None), None)
    py_threads, cpp_threads = first(python, "threads"), first(cpp, "threads")
    py_procs = first(python, "processes")
    threads = (f"Python's threads reach {py_threads:.2f}× and C++'s {cpp_threads:.2f}×"
               if py_threads is not None and cpp_threads is not None else "")
    if kind == "waiting":
        if py_threads is None or cpp_threads is None or py_threads >= 0.8 * cpp_threads:
            return (f"Waiting work: a wait is a wait in both languages — "
                    f"{threads or 'both overlap their waits'}; {overall}.")
        return (f"Waiting work, but Python's threads overlap less ({py_threads:.2f}× against "
                f"C++'s {cpp_threads:.2f}×): the CPU part of each task runs under the GIL and is "
                f"a large share of it at this server profile; {overall}.")
    cpp_seq, py_seq = cpp.get(reg.reference()), python.get(reg.reference())
    one_core = py_seq.seconds / cpp_seq.seconds if cpp_seq and py_seq else None
    if one_core is not None and SAME_CODE_BAND[0] <= one_core <= SAME_CODE_BAND[1]:
        gil = ("the library releases the GIL, so Python's threads scale too"
               if py_threads is not None and py_threads >= GIL_BOUND_SPEEDUP
               else "yet Python's threads do not scale: the call keeps the GIL")
        core = ("one core takes about the same time in both" if same_time(py_seq, cpp_seq)
                else f"one core differs by {abs(one_core - 1):.0%}")
        return (f"Both languages spend the time in the same native code: {core}; {gil} "
                f"({threads}); {overall}.")
    if py_threads is not None and py_threads < GIL_BOUND_SPEEDUP:
        procs = f", its processes reach {py_procs:.2f}×" if py_procs is not None else ""
        cpp_part = f"; C++ threads reach {cpp_threads:.2f}×" if cpp_threads is not None else ""
        single = f"; on one core C++ is {one_core:.1f}× faster" if one_core is not None else ""
        return (f"The GIL holds Python's threads to one core ({py_threads:.2f}×){procs}{cpp_part}"
                f"{single}; {overall}.")
    single = f"On one core C++ is {one_core:.1f}× faster" if one_core is not None else "C++ against Python"
    return f"{single}; {threads + '; ' if threads else ''}{overall}."


def merge_peer(cpp_path: Path, peer_path: Path) -> int:
    """Adds the Python peer's rows (``peers/python``) to the C++ run at ``cpp_path``, in place,
    for one report of both; the context's C++ keys win (the report scales C++ task times). A
    peer that read another corpus is refused. Returns the rows added."""
    cpp, peer = read_document(cpp_path), read_document(peer_path)
    if peer["context"].get("cbench_corpus_checksum") != cpp["context"].get("cbench_corpus_checksum"):
        raise UnusableInput(f"{peer_path}: the Python peer read another corpus than the C++ "
                            f"suite ({cpp_path})")
    cpp["benchmarks"] += peer["benchmarks"]
    for key, value in peer["context"].items():
        cpp["context"].setdefault(key, value)
    write_text(cpp_path, json.dumps(cpp, indent=1) + "\n")
    return len(peer["benchmarks"])
