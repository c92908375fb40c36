"""The counted lens: the instructions each case executes, under Valgrind's callgrind.

Wall time on a shared host moves by more than the changes a gate must see; the instructions a
case executes do not (docs/counted.md). A counted run is one run of the benchmark binary under
``valgrind --tool=callgrind`` with ``--cbench_count``: every case runs once, at the smoke sizes,
and brackets its measured run with client requests (executors/counting.hpp): the region's start
zeroes the counts of the process and of each fork worker of the case (a signal the worker
handles), its end writes the process's counts as a dump labelled ``cbench-count|N|PIDS`` and
records N in the row (``count_region``); a worker's counts are written when it exits. So a
case's instructions are its dump's total plus its workers' totals, whatever the threads,
processes and run order were.

What is written: ``DIR/counted.json``, the binary's Google Benchmark JSON with the counters
``instructions`` and ``instructions_per_task`` added to every counted row (docs/results-format.md),
and the dumps themselves (``DIR/cg.<pid>[.<part>]``), which ``function_changes`` reads to name
the functions whose instructions moved.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .builds import Runner
from .load import UnusableInput, read_document
from .files import write_text

COUNTED_JSON = "counted.json"
# The counted subset, at the smoke sizes, W = 1 and 2, one measured run each: every experiment's
# map rows (its task kind's work through every executor), the nested fork-joins' rows and the
# dispatch of 10,000 empty tasks. Left out, as measured A/A spreads show (docs/counted.md): the
# as-completed rows (the same work as map), the wake-up and lifecycle rows, the experiments
# `double` and `count` (a few tasks of almost no work: what they count is how the threads met,
# 1-60% from run to run), the nested fork-joins of the runtimes that steal or share their queues
# (pool, tbb, omp: how many steals a tree takes depends on the turns, up to 18%) and the
# runtimes' own floors (not the suite's code).
COUNT_SUBSET = ("^[^/]+/executor:[^/]+/mode:(map|fork-join)/"
                "|^overhead:dispatch/executor:[^/]+/workers:[0-9]+(/|$)")
COUNT_BENCH_ARGS = ("--cbench_smoke", "--cbench_workers=1,2", "--cbench_count")
COUNT_SKIP = re.compile(r"^(double|count)/|^overhead:(lifecycle|memory|wake|native)/"
                        r"|^(fib|uts)/executor:(pool|tbb|omp)/")
# --fair-sched: threads take turns in a fixed order, so that how a run's threads interleave (and
# so how often a waiter spins or sleeps) moves the counts far less (docs/counted.md);
# --trace-syscalls: every system call of the program in Valgrind's log, counted per region.
VALGRIND_ARGS = ("--tool=callgrind", "--dump-line=no", "--compress-strings=no",
                 "--compress-pos=no", "--fair-sched=yes", "--trace-syscalls=yes")
# The counted run's environment (the real dispatch keeps its defaults): OpenMP's threads sleep at
# once instead of spinning first (a spin's length is a matter of time, not of work); copies run
# glibc's vector loop, not `rep movsb`, which Valgrind counts as an instruction a byte (so a copy
# whose size depends on how a socket's writes and reads met moved a row by 1%: docs/counted.md).
_NEVER = "0xffffffffffffffff"
COUNT_ENV = {"OMP_WAIT_POLICY": "passive",
             "GLIBC_TUNABLES": f"glibc.cpu.x86_rep_movsb_threshold={_NEVER}"
                               f":glibc.cpu.x86_rep_stosb_threshold={_NEVER}"}


class CountUnavailable(Exception):
    """The counted lens cannot run here (no Valgrind, or it refused the binary): one line says
    why, and the gate judges by time alone."""


@dataclass(frozen=True)
class Dump:
    pid: int
    instructions: int
    label: str  # "" for a dump at the program's end
    path: Path


@dataclass
class CaseCount:
    """One row's count: its own process's region and its worker processes' whole lives after
    their reset."""

    instructions: int
    tasks: float
    syscalls: int = 0
    dumps: list[Path] = field(default_factory=list)

    def per_task(self, value: float) -> float:
        return value / self.tasks if self.tasks > 0 else float(value)


@dataclass
class Syscalls:
    """System calls per region of the program (its label) and per worker process (those after
    its last reset), from Valgrind's --trace-syscalls log."""

    regions: dict[str, int] = field(default_factory=dict)
    workers: dict[int, int] = field(default_factory=dict)


def valgrind() -> str:
    """The Valgrind to run: CBENCH_VALGRIND when set (the tests' stand-in), else valgrind."""
    return os.environ.get("CBENCH_VALGRIND") or "valgrind"


def valgrind_command(binary: str | Path, out_dir: Path, filter_regex: str,
                     extra: Sequence[str]) -> list[str]:
    return [valgrind(), *VALGRIND_ARGS, f"--callgrind-out-file={out_dir}/cg.%p",
            f"--log-file={out_dir}/valgrind.%p.log", str(binary), "--benchmark_format=json",
            f"--benchmark_out={out_dir / 'bench.json'}", "--benchmark_out_format=json",
            f"--benchmark_filter={filter_regex}", *COUNT_BENCH_ARGS, *extra]


def run_count(binary: str | Path, out_dir: Path, filter_regex: str, extra: Sequence[str] = (),
              run: Runner = subprocess.run) -> Path:
    """One counted run of ``binary`` into ``out_dir``; returns the path of ``counted.json``."""
    if shutil.which(valgrind()) is None:
        raise CountUnavailable("valgrind is not installed (scripts/setup installs it)")
    if out_dir.exists():
        for old in list(out_dir.glob("cg.*")) + list(out_dir.glob("valgrind.*.log")):
            old.unlink()
    out_dir.mkdir(parents=True, exist_ok=True)
    errors = out_dir / "stderr.log"
    with errors.open("w") as stderr:
        try:
            result = run(valgrind_command(binary, out_dir, filter_regex, extra),
                         stdout=subprocess.DEVNULL, stderr=stderr, check=False,
                         env={**os.environ, **COUNT_ENV})
        except OSError as error:
            raise CountUnavailable(f"cannot run valgrind ({error.strerror})") from None
    if result.returncode != 0:
        unknown = _valgrind_refusal(out_dir)
        if unknown:
            raise CountUnavailable(unknown)
        raise UnusableInput(f"{binary}: the counted run exited with status {result.returncode} "
                            f"(standard error in {errors}, Valgrind's logs beside it)")
    doc = read_document(out_dir / "bench.json")
    counts = case_counts(doc, read_dumps(out_dir, settle=30), read_syscalls(out_dir))
    if not counts:
        raise CountUnavailable(f"{binary}: no case was counted (a build without Valgrind's "
                               "headers cannot mark its regions)")
    doc = attach(doc, counts)
    _drop_syscall_lines(out_dir)
    doc["context"]["cbench_counted"] = "callgrind, " + valgrind_version(run)
    path = out_dir / COUNTED_JSON
    write_text(path, json.dumps(doc, indent=1) + "\n")
    return path


def _drop_syscall_lines(out_dir: Path) -> None:
    """Valgrind's logs without the traced calls once they are counted (tens of megabytes)."""
    for log in out_dir.glob("valgrind.*.log"):
        with log.open(errors="replace") as f:
            kept = [line for line in f if not line.startswith("SYSCALL[")]
        log.write_text("".join(kept))


def valgrind_version(run: Runner = subprocess.run) -> str:
    try:
        result = run([valgrind(), "--version"], capture_output=True, text=True, check=False)
    except OSError:
        return "valgrind (version unknown)"
    return result.stdout.strip() or "valgrind (version unknown)"


def _valgrind_refusal(out_dir: Path) -> str:
    """Valgrind's own reason for stopping the program, where it gave one (an instruction it does
    not know), in one line."""
    for log in sorted(out_dir.glob("valgrind.*.log")):
        text = log.read_text(errors="replace")
        if "unhandled instruction bytes" in text or "Illegal opcode" in text:
            return (f"valgrind does not know an instruction of the binary ({log}); counts "
                    "need a build it can run")
    return ""


_PID = re.compile(r"^pid: (\d+)$", re.M)
_DESC = re.compile(r"^desc: Trigger: (.*)$", re.M)
_TOTALS = re.compile(r"^totals: (\d+)", re.M)
_LABEL = re.compile(r"^Client Request: (cbench-count\|.*)$")


def read_dumps(out_dir: Path, settle: float = 0.0) -> list[Dump]:
    """Every whole callgrind dump in ``out_dir`` (only its header and totals are read). A
    process of the run may still be writing its dump when the program's own process has ended
    (the fork server and its last workers exit after it): a dump without its totals is read
    again for up to ``settle`` seconds, then left out; a row that needs it says so
    (``case_counts``)."""
    deadline = time.monotonic() + settle
    while True:
        dumps, cut = [], []
        for path in sorted(out_dir.glob("cg.*")):
            head = _head(path)
            pid, totals = _PID.search(head), _TOTALS.search(head)
            if pid is None or totals is None:
                cut.append(path)
                continue
            desc = _DESC.search(head)
            label = _LABEL.match(desc.group(1)) if desc else None
            dumps.append(Dump(int(pid.group(1)), int(totals.group(1)),
                              label.group(1) if label else "", path))
        if not cut or time.monotonic() >= deadline:
            return dumps
        time.sleep(0.2)


def _head(path: Path) -> str:
    """The header and the totals line (callgrind writes ``totals:`` after the costs; its
    header holds ``summary:`` for the whole run, not the dump)."""
    text = path.read_text(errors="replace")
    at = text.rfind("\ntotals:")
    head = text[:4096]
    return head + (text[at:at + 64] if at >= 0 else "")


_LOG_NAME = re.compile(r"valgrind\.(\d+)\.log$")
_MARK = "cbench-count: "


def read_syscalls(out_dir: Path) -> Syscalls:
    """Counts the system calls in each Valgrind log: a call is a line ``SYSCALL[pid,tid](nr)
    name (...)``; the line that completes a blocking call (``SYSCALL[..](nr) ... [async] -->``)
    is the same call, not another. Between a begin mark and an end mark they are that region's;
    a log with a begin mark and no end (a worker) counts from its last begin to its end."""
    found = Syscalls()
    for log in sorted(out_dir.glob("valgrind.*.log")):
        m = _LOG_NAME.search(log.name)
        if m is None:
            continue
        inside, count, began = False, 0, False
        with log.open(errors="replace") as f:
            for line in f:
                if line.startswith("SYSCALL["):
                    if inside and ") ... [async] -->" not in line:
                        count += 1
                    continue
                at = line.find(_MARK)
                if at < 0:
                    continue
                what = line[at + len(_MARK):].strip()
                if what == "begin":
                    inside, count, began = True, 0, True
                elif what.startswith("end ") and inside:
                    found.regions[what[4:]] = count
                    inside = False
        if began and inside:
            found.workers[int(m.group(1))] = count
    return found


def case_counts(doc: Mapping[str, Any], dumps: Iterable[Dump],
                syscalls: Syscalls | None = None) -> dict[str, CaseCount]:
    """Per row name: its region's dump and the end-of-life dumps of its worker processes."""
    regions: dict[int, tuple[Dump, list[int]]] = {}
    ends: dict[int, list[Dump]] = {}
    for d in dumps:
        if d.label:
            _, region, pids = d.label.split("|", 2)
            if region.isdigit():  # not the empty region before the first case ("prime")
                regions[int(region)] = (d, [int(p) for p in pids.split(",") if p])
        else:
            ends.setdefault(d.pid, []).append(d)
    out: dict[str, CaseCount] = {}
    for row in doc.get("benchmarks", []):
        region = row.get("count_region")
        if region is None or row.get("error_occurred"):
            continue
        if COUNT_SKIP.match(row["name"]):
            continue
        found = regions.get(int(region))
        if found is None:
            raise UnusableInput(f"{row['name']}: its counted region {int(region)} wrote no dump")
        dump, workers = found
        count = CaseCount(dump.instructions, float(row.get("count_tasks", 0)),
                          dumps=[dump.path])
        if syscalls is not None:
            count.syscalls = syscalls.regions.get(dump.label, 0)
        for pid in workers:
            if pid not in ends:
                # A worker killed before it wrote its dump whole: the row's count is unknown.
                raise UnusableInput(f"{row['name']}: worker process {pid} wrote no whole "
                                    f"callgrind dump")
            for end in ends.get(pid, []):
                count.instructions += end.instructions
                count.dumps.append(end.path)
            if syscalls is not None:
                count.syscalls += syscalls.workers.get(pid, 0)
        out[row["name"]] = count
    return out


def attach(doc: dict[str, Any], counts: Mapping[str, CaseCount]) -> dict[str, Any]:
    """The document with ``instructions`` and ``instructions_per_task`` on every counted row
    (the bookkeeping counters left out)."""
    rows = []
    for row in doc.get("benchmarks", []):
        row = {k: v for k, v in row.items() if k not in ("count_region", "count_tasks")}
        count = counts.get(row["name"])
        if count is not None:
            row["instructions"] = count.instructions
            row["instructions_per_task"] = count.per_task(count.instructions)
            row["syscalls"] = count.syscalls
            row["syscalls_per_task"] = count.per_task(count.syscalls)
            row["count_dumps"] = [p.name for p in count.dumps]
        rows.append(row)
    return {**doc, "benchmarks": rows}


def instructions(doc: Mapping[str, Any], counter: str = "instructions"
                 ) -> dict[str, tuple[float, float]]:
    """Per row key (names.parse_name): (the count, the count per task) of a counted run;
    ``counter``: "instructions" or "syscalls"."""
    from .names import parse_name

    out = {}
    for row in doc.get("benchmarks", []):
        if counter in row and row.get("run_type", "iteration") == "iteration":
            out[parse_name(row["name"]).key] = (float(row[counter]),
                                                float(row[counter + "_per_task"]))
    return out


def dumps_of(doc: Mapping[str, Any], key: str, base: Path) -> list[Path]:
    from .names import parse_name

    for row in doc.get("benchmarks", []):
        if "count_dumps" in row and parse_name(row["name"]).key == key:
            return [base / name for name in row["count_dumps"]]
    return []


_FN = re.compile(r"^fn=(?:\(\d+\) ?)?(.*)$")
_COST = re.compile(r"^[+-]?\d+ (\d+)")


def function_costs(paths: Iterable[Path]) -> dict[str, int]:
    """Self instructions per function over these dumps (callgrind's format, uncompressed names:
    a ``fn=`` line, then cost lines; the line after a ``calls=`` line is the call's inclusive
    cost, which belongs to the callee and is skipped)."""
    costs: dict[str, int] = {}
    for path in paths:
        current = None
        skip_next = False
        with path.open(errors="replace") as f:
            for line in f:
                if skip_next:
                    skip_next = False
                    continue
                if line.startswith("fn="):
                    m = _FN.match(line.rstrip("\n"))
                    current = m.group(1) if m else None
                elif line.startswith("calls="):
                    skip_next = True
                elif current is not None and line[:1] and (line[:1].isdigit()
                                                           or line[:1] in "+-"):
                    m = _COST.match(line)
                    if m:
                        costs[current] = costs.get(current, 0) + int(m.group(1))
    return costs


def function_changes(a: Iterable[Path], b: Iterable[Path], most: int = 5
                     ) -> list[tuple[str, int, int]]:
    """The functions whose self instructions changed most from A's dumps to B's:
    (function, A's, B's), largest absolute change first."""
    ca, cb = function_costs(a), function_costs(b)
    changed = [(name, ca.get(name, 0), cb.get(name, 0)) for name in set(ca) | set(cb)
               if ca.get(name, 0) != cb.get(name, 0)]
    changed.sort(key=lambda t: -abs(t[2] - t[1]))
    return changed[:most]
