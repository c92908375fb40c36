"""The counted lens on the command line: ``scripts/report count``, and the gate's counted stage
and stage timings (``cli.cmd_gate`` calls these)."""
from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from .load import UnusableInput

PROG = "report"


class Stages:
    """How long each stage of a gate took, logged as each ends and summed at the end."""

    def __init__(self, log: Callable[[str], None]):
        self.log = log
        self.seconds: dict[str, float] = {}

    @contextmanager
    def __call__(self, name: str):
        start = time.monotonic()
        try:
            yield
        finally:
            took = time.monotonic() - start
            self.seconds[name] = self.seconds.get(name, 0.0) + took
            self.log(f"stage {name}: {took:.0f} s")

    def line(self) -> str:
        parts = [f"{name} {s:.0f} s" for name, s in self.seconds.items()]
        return ("durations: " + ", ".join(parts) + f"; total {sum(self.seconds.values()):.0f} s"
                if parts else "")


def _expected(args: argparse.Namespace) -> list[str]:
    from .count_gate import expected_families

    names = [n.strip() for n in (args.expected_change or "").split(",") if n.strip()]
    if getattr(args, "commits", None):
        names += expected_families(args.repo, *args.commits)
    return list(dict.fromkeys(names))


def counted_stage(binaries: Mapping[str, Path], out: Path, subset: str,
                  args: argparse.Namespace, extra: Sequence[str], log: Callable[[str], None]):
    """The gate's counted stage, or None (with one line saying why) when it cannot run."""
    from .count_gate import run_stage
    from .counted import CountUnavailable
    from .counted import COUNT_SUBSET

    if args.no_count:
        log("counted lens: skipped (--no-count); judging by time alone")
        return None
    try:
        result = run_stage(binaries, out / "count", COUNT_SUBSET if subset else "^[^/]+/",
                           _expected(args), log)
    except CountUnavailable as error:
        log(f"counted lens: unavailable: {error}; judging by time alone")
        return None
    log(f"counted lens: {len(result.regressions)} regression(s) in {result.rows} rows")
    return result


def load_counted(out: Path, args: argparse.Namespace):
    from .count_gate import load_stage

    return None if args.no_count else load_stage(out / "count", _expected(args))


def finish_gate(out: Path, result, counted, stages: Stages, markdown: bool) -> int:
    """Writes gate.json and prints both lenses' verdicts; exit 1 when either found a regression
    that no commit named as expected."""
    from . import count_gate, gate

    doc = gate.result_json(result)
    doc["counted"] = count_gate.result_json(counted) if counted is not None else None
    doc["durations"] = stages.seconds
    (out / "gate.json").write_text(json.dumps(doc, indent=1) + "\n")
    text = gate.format_result(result, markdown=markdown)
    if counted is not None:
        text = count_gate.format_result(counted, markdown) + "\n" + text
    else:
        text = ("counted lens: not run; time alone judged this gate\n" if not markdown else
                "#### Counted lens: not run; time alone judged this gate\n") + "\n" + text
    if stages.line():
        text += "\n" + stages.line() + "\n"
    print(text, end="")
    return 1 if result.regressions or (counted is not None and counted.regressions) else 0


def add_count_parser(sub) -> None:
    p = sub.add_parser(
        "count", help="count each case's instructions under callgrind (the counted lens)",
        description="Runs the benchmark binary under Valgrind's callgrind with --cbench_count: "
                    "every case of the gate's subset once, at the smoke sizes, its measured run "
                    "counted (its worker processes included). Writes DIR/run-N/counted.json "
                    "(Google Benchmark JSON with instructions and instructions_per_task on each "
                    "row) and prints each row's instructions per task; with --runs N > 1, the "
                    "spread of every count over the runs.",
        epilog="Method: docs/counted.md.")
    p.add_argument("--binary", type=Path, metavar="BINARY",
                   help="the benchmark binary (default build/release/benchmarks/cbench_bench)")
    p.add_argument("--runs", type=int, default=1, help="counted runs (default 1)")
    p.add_argument("--filter", metavar="REGEX",
                   help="--benchmark_filter of the runs (default: the counted subset, "
                        "counted.COUNT_SUBSET)")
    p.add_argument("-o", "--out", type=Path, metavar="DIR",
                   help="where the runs go (default: a new temporary folder)")
    p.set_defaults(handler=cmd_count)


def cmd_count(args: argparse.Namespace, extra: list[str]) -> int:
    from .builds import BENCH_BINARY
    from .cli import ROOT
    from .counted import COUNT_SUBSET, CountUnavailable, instructions, run_count
    from .text import text_table

    if args.runs < 1:
        print(f"{PROG}: error: count: --runs must be at least 1", file=sys.stderr)
        return 2
    binary = args.binary or ROOT / BENCH_BINARY
    if not Path(binary).is_file():
        raise UnusableInput(f"{binary}: no benchmark binary (cmake --build --preset release)")
    out = args.out or Path(tempfile.mkdtemp(prefix="cbench-count-"))
    regex = args.filter or COUNT_SUBSET
    runs, calls = [], []
    for i in range(args.runs):
        print(f"{PROG}: counted run {i + 1}/{args.runs} of {binary} into {out / f'run-{i}'}",
              file=sys.stderr)
        try:
            path = run_count(binary, out / f"run-{i}", regex, extra)
        except CountUnavailable as error:
            print(f"{PROG}: error: the counted lens cannot run here: {error}", file=sys.stderr)
            return 2
        doc = json.loads(path.read_text())
        runs.append(instructions(doc))
        calls.append(instructions(doc, "syscalls"))
    first = runs[0]
    rows = []
    for key, (total, per_task) in first.items():
        spread = max((abs(r[key][0] / total - 1) for r in runs[1:]
                      if key in r and r[key][0] > 0 and total > 0), default=0.0)
        call_spread = max((abs(r[key][0] - calls[0][key][0]) for r in calls[1:] if key in r),
                          default=0.0)
        rows.append([key, f"{total:,.0f}", f"{per_task:,.0f}",
                     f"{spread * 100:.4f}%" if len(runs) > 1 else "–",
                     f"{calls[0][key][1]:.2f}", f"{call_spread:.0f}" if len(runs) > 1 else "–"])
    print(text_table(["case", "instructions", "per task", "spread", "syscalls per task",
                      "syscalls spread"], rows))
    if len(runs) > 1:
        print("\n" + spread_summary(runs))
    print(f"\n{len(first)} cases counted; runs in {out}")
    return 0


def spread_summary(runs: Sequence[Mapping[str, tuple[float, float]]]) -> str:
    """The largest difference of any row, and of any family's median change, from the first
    run to each other: what the gate's counted stage must see past (count_gate.COUNT_SPREAD)."""
    from .count_gate import effects

    first = {k: v[0] for k, v in runs[0].items()}
    worst_row, worst_family = (0.0, ""), (0.0, "")
    for other in runs[1:]:
        values = {k: v[0] for k, v in other.items()}
        for k in first.keys() & values.keys():
            if first[k] > 0 and values[k] > 0:
                d = abs(values[k] / first[k] - 1)
                worst_row = max(worst_row, (d, k))
        for e in effects(first, values):
            worst_family = max(worst_family, (abs(e.change), e.family.name))
    return (f"largest row difference over {len(runs)} runs: {worst_row[0] * 100:.4f}% "
            f"({worst_row[1]}); largest family change: {worst_family[0] * 100:.4f}% "
            f"({worst_family[1]})")
