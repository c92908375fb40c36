"""The counted lens on the command line: ``scripts/report count``, and the gate's counted stage
and stage timings (``cli.cmd_gate`` calls these)."""
from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from .load import UnusableInput
from .files import write_text

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
    from .counted import COUNT_SUBSET, CountUnavailable

    if args.no_count:
        log("counted lens: skipped (--no-count); judging by time alone")
        return None
    # Arguments after `--` replace the gate's subset: the counted run takes their filter and
    # their other flags, at its own sizes, worker counts and one run a case.
    regex, passed = COUNT_SUBSET if subset else "^[^/]+/", []
    for arg in extra:
        if arg.startswith("--benchmark_filter="):
            regex = arg.split("=", 1)[1]
        elif not arg.startswith(("--cbench_preset=", "--cbench_workers=", "--benchmark_min_time=",
                                 "--benchmark_repetitions=")):
            passed.append(arg)
    try:
        result = run_stage(binaries, out / "count", regex, _expected(args), log, passed)
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
    write_text(out / "gate.json", json.dumps(doc, indent=1) + "\n")
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
    p.add_argument("--runs-dir", type=Path, nargs="+", metavar="DIR",
                   help="read the counted runs earlier `count` runs wrote instead of counting")
    p.add_argument("--spread-out", type=Path, metavar="FILE",
                   help="write the A/A spread of every family (what the gate's counted stage "
                        "reads from results/baselines/count-spread.json)")
    p.add_argument("--filter", metavar="REGEX",
                   help="--benchmark_filter of the runs (default: the counted subset, "
                        "counted.COUNT_SUBSET)")
    p.add_argument("-o", "--out", type=Path, metavar="DIR",
                   help="where the runs go (default: results/counted/<time>, which the "
                        "report's per-task table reads)")
    p.set_defaults(handler=cmd_count)


def cmd_count(args: argparse.Namespace, extra: list[str]) -> int:
    from .builds import BENCH_BINARY
    from .cli_common import ROOT
    from .counted import COUNT_SUBSET, COUNTED_JSON, CountUnavailable, instructions, run_count
    from .per_task import COUNTED_DIR
    from .text import text_table

    if args.runs < 1:
        print(f"{PROG}: error: count: --runs must be at least 1", file=sys.stderr)
        return 2
    docs = []
    if args.runs_dir:
        for d in args.runs_dir:
            for path in sorted(d.glob(f"run-*/{COUNTED_JSON}")) or [d / COUNTED_JSON]:
                try:
                    docs.append(json.loads(path.read_text()))
                except (OSError, ValueError) as error:
                    raise UnusableInput(f"{path}: not a counted run ({error})") from None
        out = args.runs_dir[0]
    else:
        binary = args.binary or ROOT / BENCH_BINARY
        if not Path(binary).is_file():
            raise UnusableInput(f"{binary}: no benchmark binary (cmake --build --preset release)")
        out = args.out or ROOT / COUNTED_DIR / time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        for i in range(args.runs):
            print(f"{PROG}: counted run {i + 1}/{args.runs} of {binary} into {out / f'run-{i}'}",
                  file=sys.stderr)
            try:
                path = run_count(binary, out / f"run-{i}", args.filter or COUNT_SUBSET, extra)
            except CountUnavailable as error:
                print(f"{PROG}: error: the counted lens cannot run here: {error}",
                      file=sys.stderr)
                return 2
            docs.append(json.loads(path.read_text()))
    runs = [instructions(doc) for doc in docs]
    calls = [instructions(doc, "syscalls") for doc in docs]
    rows = []
    for key, (total, per_task) in runs[0].items():
        spread = max((abs(r[key][0] / total - 1) for r in runs[1:]
                      if key in r and r[key][0] > 0 and total > 0), default=0.0)
        call_spread = max((abs(r[key][1] - calls[0][key][1]) for r in calls[1:] if key in r),
                          default=0.0)
        many = len(runs) > 1
        rows.append([key, f"{total:,.0f}", f"{per_task:,.0f}",
                     f"{spread * 100:.4f}%" if many else "–", f"{calls[0][key][1]:.2f}",
                     f"{call_spread:.2f}" if many else "–"])
    print(text_table(["case", "instructions", "per task", "spread", "system calls per task",
                      "its spread"], rows))
    if len(runs) > 1:
        spreads = family_spreads(docs)
        print("\n" + spread_summary(spreads, len(docs)))
        if args.spread_out:
            write_text(args.spread_out, json.dumps(
                {"runs": len(docs), "commit": docs[0].get("context", {}).get("cbench_commit"),
                 "counted": docs[0].get("context", {}).get("cbench_counted"),
                 "families": spreads}, indent=1, sort_keys=True) + "\n")
            print(f"A/A spreads written to {args.spread_out}")
    print(f"\n{len(runs[0])} cases counted; runs in {out}")
    return 0


def family_spreads(docs: Sequence[Mapping]) -> dict[str, dict[str, float]]:
    """Per metric and family, the largest change between any two of these counted runs of one
    binary, as the gate measures a change (count_gate.effects)."""
    from itertools import combinations

    from .count_gate import METRICS, effects, per_task_counts

    out: dict[str, dict[str, float]] = {m: {} for m in METRICS}
    counts = [per_task_counts(doc) for doc in docs]
    for metric in METRICS:
        per_task = [c[metric] for c in counts]
        for a, b in combinations(per_task, 2):
            for e in effects(a, b, metric):
                name = e.family.name
                out[metric][name] = max(out[metric].get(name, 0.0), abs(e.change))
    return out


def spread_summary(spreads: Mapping[str, Mapping[str, float]], runs: int) -> str:
    """The families whose counts moved most between any two runs."""
    from .count_gate import SPREAD_LIMIT

    lines = [f"A/A spread over {runs} runs (the largest change of a family between any two):"]
    for metric, unit in (("instructions", "%"), ("syscalls", " per task")):
        worst = sorted(spreads.get(metric, {}).items(), key=lambda kv: -kv[1])[:6]
        scale = 100 if unit == "%" else 1
        lines.append(f"  {metric}: " + ", ".join(f"{f} {s * scale:.3g}{unit}" for f, s in worst))
        over = [f for f, s in spreads.get(metric, {}).items() if s > SPREAD_LIMIT[metric]]
        if over:
            lines.append(f"  {metric}, beyond the limit (left to the timing lens): "
                         + ", ".join(sorted(over)))
    return "\n".join(lines)


def calibrate_counted(args: argparse.Namespace, binary: Path, extra: Sequence[str]) -> int:
    """calibrate's counted half: A/A counted runs (made, or read from --counted), the spreads
    of every family written for the gate, and the trials of count_calibrate on the runs the
    spreads were not learned from."""
    from .count_calibrate import format_trials, trials
    from .count_gate import SPREAD_FILE, Spreads
    from .counted import COUNT_SUBSET, COUNTED_JSON, CountUnavailable, run_count

    docs = []
    if args.counted:
        for d in args.counted:
            for path in sorted(d.glob(f"run-*/{COUNTED_JSON}")):
                docs.append(json.loads(path.read_text()))
    elif args.count_runs > 0 and not args.pairs_dir:  # a pool reused: counted runs only if given
        out = (args.out or Path("results") / "counted") / "calibrate"
        for i in range(args.count_runs):
            print(f"{PROG}: counted run {i + 1}/{args.count_runs}", file=sys.stderr)
            try:
                docs.append(json.loads(run_count(binary, out / f"run-{i}", COUNT_SUBSET,
                                                 extra).read_text()))
            except CountUnavailable as error:
                print(f"\ncounted lens: not calibrated: {error}")
                return 0
    if len(docs) < 4:
        if docs or args.counted:
            print(f"\ncounted lens: {len(docs)} counted runs; calibrating it needs 4 or more")
        return 0
    half = len(docs) // 2
    learned = Spreads(family_spreads(docs[:half]), "the first half", half)
    print("\n" + format_trials(trials(docs[half:], learned), len(docs), half))
    path = args.spread_out or SPREAD_FILE
    write_text(path, json.dumps({"runs": len(docs),
                                "commit": docs[0].get("context", {}).get("cbench_commit"),
                                "counted": docs[0].get("context", {}).get("cbench_counted"),
                                "families": family_spreads(docs)}, indent=1, sort_keys=True)
               + "\n")
    print(f"counted lens's A/A spreads written to {path}")
    return 0
