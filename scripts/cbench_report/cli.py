"""The command line: ``scripts/report load|plot|report|compare|history``. Thin: it parses
arguments, calls the package's functions and turns ``UnusableInput`` into one line on standard
error and exit status 2 (compare: 0 no regression, 1 a regression, 2 unusable input)."""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import traceback
from collections.abc import Sequence
from pathlib import Path

# Only the light modules here: each command imports what it needs (NumPy, SciPy, matplotlib take
# most of a second to import, and `load` or a bad file should not wait for them).
from .load import Run, UnusableInput, load_run
from .style import machine_line
from .text import seconds, text_table
from .trace import TraceCase, load_trace, trace_path

PROG = "report"


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    # Everything after the first `--` goes to the benchmark binaries (compare --builds/--commits).
    extra: list[str] = []
    if "--" in args_list:
        cut = args_list.index("--")
        args_list, extra = args_list[:cut], args_list[cut + 1:]
    parser = build_parser()
    args = parser.parse_args(args_list)
    if extra and not (args.command == "compare" and (args.builds or args.commits)):
        parser.error("arguments after -- are for the benchmark binaries of compare --builds/--commits")
    try:
        return args.handler(args, extra)
    except UnusableInput as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2
    except Exception:  # a bug here must not read as "1: a regression" to CI
        traceback.print_exc()
        print(f"{PROG}: internal error (above); exit status 2", file=sys.stderr)
        return 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description="Reports and the regression gate for cbench's Google Benchmark JSON "
                               "(docs/results-format.md).")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("load", help="read and validate runs, list their benchmarks",
                       description="Reads and validates Google Benchmark JSON runs and lists each "
                                   "benchmark (our name, repetitions, median). Exit 2 with one "
                                   "line naming the file when a run is unusable.")
    p.add_argument("runs", nargs="+", metavar="RUN.json")
    p.set_defaults(handler=cmd_load)

    p = sub.add_parser("plot", help="draw the charts of a run (PNG and SVG)",
                       description="Speedup and efficiency per workload, CPU utilisation, "
                                   "overheads, granularity (METG), and timelines from "
                                   "results.trace.json beside the run, as PNG and SVG.")
    p.add_argument("run", metavar="RUN.json")
    p.add_argument("-o", "--out", type=Path, metavar="DIR",
                   help="where to write the charts (default: charts/ beside the run)")
    p.set_defaults(handler=cmd_plot)

    p = sub.add_parser("report", help="one HTML page and a Markdown summary of a run",
                       description="Writes report.html (self-contained, charts embedded), "
                                   "summary.md (for a CI job summary) and the charts.")
    p.add_argument("run", metavar="RUN.json")
    p.add_argument("-o", "--out", type=Path, metavar="DIR",
                   help="where to write them (default: report/ beside the run)")
    p.set_defaults(handler=cmd_report)

    p = sub.add_parser(
        "compare", help="the regression gate: compare two runs (or two builds, or two commits)",
        description="Per benchmark in both runs: change of the median real time, two-sided "
                    "Mann-Whitney U p-value over the repetitions, and a verdict: regression "
                    "(slower by more than the threshold and p < alpha), improvement, same, or too "
                    "few repetitions (fewer than 5 a side). Exit 0: no regression; 1: a "
                    "regression; 2: unusable input.",
        epilog="Modes: `compare BASELINE.json NEW.json`; `compare --builds A_BINARY B_BINARY "
               "[-- benchmark args]` runs the two binaries in turn (A B A B ...), one repetition "
               "each, and merges them per side; `compare --commits BASE HEAD` builds each commit "
               "in a temporary git worktree (cmake --preset release, target cbench_bench), then "
               "does the same.")
    p.add_argument("files", nargs="*", metavar="RUN.json", help="BASELINE.json NEW.json")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--builds", nargs=2, metavar=("A_BINARY", "B_BINARY"))
    mode.add_argument("--commits", nargs=2, metavar=("BASE", "HEAD"))
    p.add_argument("--threshold", default="5%", help="smallest change that counts (default 5%%)")
    p.add_argument("--alpha", type=float, default=0.05, help="significance level (default 0.05)")
    p.add_argument("--markdown", action="store_true", help="print Markdown instead of a table")
    p.add_argument("--filter", metavar="REGEX", help="--benchmark_filter for the binaries")
    p.add_argument("--repetitions", type=int, default=5,
                   help="runs of each binary in builds/commits mode (default 5)")
    p.add_argument("-o", "--out", type=Path, metavar="DIR",
                   help="builds/commits mode: where the runs and merged A.json, B.json go "
                        "(default: a new temporary folder)")
    p.add_argument("--repo", type=Path, default=Path("."),
                   help="commits mode: the git repository (default: the current folder)")
    p.set_defaults(handler=cmd_compare)

    p = sub.add_parser("history", help="append a run to the history, or plot a benchmark over commits",
                       description="`history RUN.json` stores the run (each benchmark's "
                                   "repetitions) in DIR keyed by commit (cbench_commit) and date; "
                                   "`history --plot NAME` plots that benchmark's median over the "
                                   "stored commits.")
    p.add_argument("run", nargs="?", metavar="RUN.json")
    p.add_argument("--dir", type=Path, default=Path("results/history"),
                   help="the history folder (default results/history)")
    p.add_argument("--plot", metavar="NAME", help="the benchmark to plot (our name)")
    p.add_argument("-o", "--out", type=Path, metavar="DIR",
                   help="where to write the plot (default: the history folder)")
    p.set_defaults(handler=cmd_history)
    return parser


def cmd_load(args: argparse.Namespace, _: list[str]) -> int:
    for path in args.runs:
        run = load_run(path)
        reps = [b.repetitions for b in run.benchmarks.values()]
        print(f"{path}: {len(run.benchmarks)} benchmarks, {min(reps)}–{max(reps)} repetitions; "
              f"{machine_line(run.context)}")
        rows = [[b.key, str(b.repetitions), seconds(b.median),
                 "; ".join(b.errors) if b.errors else ""] for b in run.benchmarks.values()]
        print(text_table(["benchmark", "reps", "median", "error"], rows) + "\n")
    return 0


def cmd_plot(args: argparse.Namespace, _: list[str]) -> int:
    run = load_run(args.run)
    from .charts import run_charts, save_chart  # matplotlib only for the commands that draw

    out = args.out or Path(args.run).parent / "charts"
    for chart in run_charts(run, _trace_of(run)):
        for path in save_chart(chart, out):
            print(path)
    return 0


def cmd_report(args: argparse.Namespace, _: list[str]) -> int:
    run = load_run(args.run)
    from .charts import run_charts, save_chart
    from .html import EmbeddedChart, render_html
    from .markdown import render_summary
    from .metg import granularity_points, metg_table
    from .scaling import experiment_points

    out = args.out or Path(args.run).parent / "report"
    points = experiment_points(run)
    metgs = metg_table(granularity_points(run))
    embedded = []
    for chart in run_charts(run, _trace_of(run)):
        png, _svg = save_chart(chart, out)
        embedded.append(EmbeddedChart(chart.stem, chart.title, png.read_bytes()))
    (out / "report.html").write_text(render_html(run, points, metgs, embedded), encoding="utf-8")
    (out / "summary.md").write_text(render_summary(run, points, metgs), encoding="utf-8")
    print(out / "report.html")
    print(out / "summary.md")
    return 0


def cmd_compare(args: argparse.Namespace, extra: list[str]) -> int:
    from . import compare

    try:
        threshold = compare.parse_threshold(args.threshold)
    except ValueError:
        return _usage(f"compare: --threshold {args.threshold!r} is not a percentage such as 5%")
    if not 0 < args.alpha < 1:
        return _usage("compare: --alpha must be between 0 and 1")
    if (args.builds or args.commits) and args.files:
        return _usage("compare: give two runs, or --builds, or --commits, not several")
    if not (args.builds or args.commits) and len(args.files) != 2:
        return _usage("compare: needs BASELINE.json NEW.json (or --builds A B, or --commits BASE HEAD)")
    if args.repetitions < 1:
        return _usage("compare: --repetitions must be at least 1")
    if args.files:
        base_path, new_path = args.files
    else:
        out = args.out or Path(tempfile.mkdtemp(prefix="cbench-compare-"))
        base_path, new_path = _run_builds(args, extra, out)
        print(f"{PROG}: runs merged into {base_path} and {new_path}", file=sys.stderr)
    result = compare.compare_runs(load_run(base_path), load_run(new_path), threshold, args.alpha)
    print(compare.format_markdown(result) if args.markdown else compare.format_text(result))
    return 1 if result.regressions else 0


def cmd_history(args: argparse.Namespace, _: list[str]) -> int:
    from . import history

    if bool(args.run) == bool(args.plot):
        return _usage("history: give RUN.json to append, or --plot NAME, not both")
    if args.run:
        print(history.append_run(load_run(args.run), args.dir))
        return 0
    from .charts import history_chart, save_chart

    if not args.dir.is_dir():
        raise UnusableInput(f"{args.dir}: no history folder")
    key, entries = history.entries_with(history.load_history(args.dir), args.plot)
    if not entries:
        raise UnusableInput(f"{args.dir}: no entry has the benchmark {key}")
    for path in save_chart(history_chart(key, entries), args.out or args.dir):
        print(path)
    return 0


def _run_builds(args: argparse.Namespace, extra: list[str], out: Path) -> tuple[Path, Path]:
    from . import builds

    def log(line: str) -> None:
        print(f"{PROG}: {line}", file=sys.stderr)

    def run_both(a: Path | str, b: Path | str) -> tuple[Path, Path]:
        return builds.run_builds(a, b, out, args.repetitions, args.filter, extra, log=log)

    if args.builds:
        return run_both(*args.builds)
    repo = _git_toplevel(args.repo)
    log(f"building {args.commits[0]} and {args.commits[1]} in worktrees under {out / 'worktrees'}")
    with builds.commit_builds(repo, *args.commits, out / "worktrees") as (a, b):
        return run_both(a, b)


def _git_toplevel(path: Path) -> Path:
    result = subprocess.run(["git", "-C", str(path), "rev-parse", "--show-toplevel"],
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise UnusableInput(f"{path}: not inside a git repository")
    return Path(result.stdout.strip())


def _trace_of(run: Run) -> list[TraceCase]:
    path = trace_path(run.path)
    if not path.is_file():
        return []
    try:
        return load_trace(path)
    except UnusableInput as error:  # the charts without timelines are still worth drawing
        print(f"{PROG}: warning: {error}; no timeline drawn", file=sys.stderr)
        return []


def _usage(message: str) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return 2
