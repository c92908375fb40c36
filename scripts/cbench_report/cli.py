"""The command line: ``scripts/report load|assemble|remeasure|merge-links|merge-peer|plot|report|compare|gate|calibrate|count|history``. Thin: it
parses arguments, calls the package's functions and turns ``UnusableInput`` into one line on
standard error and exit status 2 (compare and gate: 0 no regression, 1 a regression, 2 unusable
input)."""
from __future__ import annotations

import argparse
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

from .cli_common import PROG, ROOT, _git_toplevel, _threshold, _usage
from .files import CannotWrite, write_text


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    # Everything after the first `--` goes to the benchmark binaries (compare --builds/--commits).
    extra: list[str] = []
    if "--" in args_list:
        cut = args_list.index("--")
        args_list, extra = args_list[:cut], args_list[cut + 1:]
    parser = build_parser()
    args = parser.parse_args(args_list)
    if extra and not ((args.command == "compare" and (args.builds or args.commits))
                      or args.command in ("gate", "calibrate", "count")):
        parser.error("arguments after -- are for the benchmark binaries of compare --builds/"
                     "--commits, gate, calibrate and count")
    try:
        return args.handler(args, extra)
    except UnusableInput as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2
    except CannotWrite as error:
        print(f"{PROG}: error: {error} (every file written before it is whole; none is left "
              f"in part)", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        # What was measured stays where it was written (a gate's pairs.json is rewritten after
        # every pair, and `gate --pairs-dir DIR` judges it).
        print(f"{PROG}: interrupted; what was measured so far is kept under its -o folder",
              file=sys.stderr)
        return 130
    except Exception:  # a bug here must not read as "1: a regression" to CI
        traceback.print_exc()
        print(f"{PROG}: internal error (above); exit status 2", file=sys.stderr)
        return 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description="Reports and the regression gate for cbench's Google Benchmark JSON "
                               "(docs/results-format.md).")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_journal_parsers(sub)
    _add_report_parsers(sub)
    _add_compare_parser(sub)
    from .count_cli import add_count_parser
    from .gate_cli import add_calibrate_parser, add_gate_parser

    add_gate_parser(sub)
    add_count_parser(sub)
    add_calibrate_parser(sub)
    _add_history_parser(sub)
    return parser


def _add_journal_parsers(sub) -> None:
    """Reading runs and their journals: load, assemble, remeasure, merge-links, merge-peer,
    failures."""
    p = sub.add_parser("load", help="read and validate runs, list their benchmarks",
                       description="Reads and validates Google Benchmark JSON runs and lists each "
                                   "benchmark (our name, repetitions, median). Exit 2 with one "
                                   "line naming the file when a run is unusable.")
    p.add_argument("runs", nargs="+", metavar="RUN.json")
    p.set_defaults(handler=cmd_load)

    p = sub.add_parser("assemble", help="results.json from a run's journal (an interrupted run)",
                       description="Writes the Google Benchmark JSON a run's journal stands for "
                                   "(results.journal.jsonl: every case finished so far, of every "
                                   "part of the run) and prints how many cases it holds.")
    p.add_argument("journal", type=Path, metavar="JOURNAL.jsonl")
    p.add_argument("-o", "--out", type=Path, metavar="RUN.json",
                   help="where to write it (default: results.json beside the journal)")
    p.set_defaults(handler=cmd_assemble)

    p = sub.add_parser("remeasure", help="the cases of a journal measured while the host was slow",
                       description="Writes the names of the cases whose measurement the host "
                                   "disturbed (host_disturbed, docs/design.md \"A disturbed "
                                   "case\") and that were measured fewer than 3 times, one a "
                                   "line, for cbench_bench --cbench_remeasure; prints how many.")
    p.add_argument("journal", type=Path, metavar="JOURNAL.jsonl")
    p.add_argument("-o", "--out", type=Path, metavar="FILE", required=True)
    p.set_defaults(handler=cmd_remeasure)

    p = sub.add_parser("merge-links", help="one journal from a run swept once per link setting",
                       description="Merges RUN_DIR/results.link-SETTING.journal.jsonl, one per "
                                   "setting of LINKS (scripts/bench --hosts --links), into "
                                   "RUN_DIR/results.journal.jsonl, each row named with "
                                   "link:SETTING; prints how many cases.")
    p.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    p.add_argument("links", metavar="LINKS", help="the settings, comma-separated")
    p.set_defaults(handler=cmd_merge_links)

    p = sub.add_parser("merge-peer", help="add the Python peer's rows to a C++ run",
                       description="Adds the rows of the Python peer's run (peers/python) to "
                                   "the C++ run, in place, for one report of both; refuses a "
                                   "peer that read another corpus. Prints how many rows.")
    p.add_argument("run", type=Path, metavar="RUN.json")
    p.add_argument("peer", type=Path, metavar="PEER.json")
    p.set_defaults(handler=cmd_merge_peer)

    p = sub.add_parser("failures", help="the cases of a run that failed",
                       description="Prints each case of the run that failed (its check against "
                                   "the sequential reference, or an error), one a line, and how "
                                   "many cases the run holds; exit 1 when one did. A nested "
                                   "row's deadlock shown on purpose, or its \"not supported\", "
                                   "is a result, not a failure (docs/executors.md).")
    p.add_argument("run", type=Path, metavar="RUN.json")
    p.set_defaults(handler=cmd_failures)


def _add_report_parsers(sub) -> None:
    """Drawing and writing a run's report: plot, report."""
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
    p.add_argument("--counted", type=Path, metavar="COUNTED.json",
                   help="the counted run whose instructions and system calls per task the "
                        "per-task table shows (default: the newest under results/counted/)")
    p.set_defaults(handler=cmd_report)

def _add_compare_parser(sub) -> None:
    p = sub.add_parser(
        "compare", help="compare two runs (or two builds, or two commits) row by row; the "
                        "pull-request gate is `gate`",
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


def _add_history_parser(sub) -> None:
    p = sub.add_parser("history", help="append a run to the history, or plot a benchmark over commits",
                       description="`history RUN.json` stores the run (each benchmark's "
                                   "repetitions) in DIR keyed by commit (cbench_commit) and date; "
                                   "`history --changes` names, per benchmark and machine, the "
                                   "commits where its median stepped (E-Divisive with a "
                                   "permutation test, steps beyond --threshold); `history --plot "
                                   "NAME` plots that benchmark's median over the stored commits, "
                                   "its steps marked.")
    p.add_argument("run", nargs="?", metavar="RUN.json")
    p.add_argument("--dir", type=Path, default=Path("results/history"),
                   help="the history folder (default results/history)")
    p.add_argument("--plot", metavar="NAME", help="the benchmark to plot (our name), its steps marked")
    p.add_argument("--changes", action="store_true",
                   help="list the commits where a benchmark stepped (E-Divisive change points)")
    p.add_argument("--threshold", default="5%",
                   help="with --changes: smallest step that counts (default 5%%)")
    p.add_argument("-o", "--out", type=Path, metavar="DIR",
                   help="where to write the plot (default: the history folder)")
    p.set_defaults(handler=cmd_history)

def cmd_assemble(args: argparse.Namespace, extra: Sequence[str]) -> int:
    from .journal import write_assembled
    out = args.out or args.journal.with_name("results.json")
    result = write_assembled(args.journal, out)
    cut = f"; {result.cut_lines} cut-off line(s) left out" if result.cut_lines else ""
    print(f"{result.finished} of {result.cases} cases in {out}{cut}")
    return 0


def cmd_failures(args: argparse.Namespace, _: Sequence[str]) -> int:
    from .nested import is_expected_outcome

    run = load_run(args.run)
    failed = [f"{key}: {error}" for key, b in run.benchmarks.items() for error in b.errors
              if not is_expected_outcome(error)]
    for line in failed:
        print(line)
    print(f"{len(failed)} of {len(run.benchmarks)} cases failed")
    return 1 if failed else 0


def cmd_remeasure(args: argparse.Namespace, _: Sequence[str]) -> int:
    from .journal import to_measure_again

    names = to_measure_again(args.journal)
    write_text(args.out, "".join(f"{n}\n" for n in names))
    print(len(names))
    return 0


def cmd_merge_links(args: argparse.Namespace, _: Sequence[str]) -> int:
    from .journal import merge_link_journals
    print(merge_link_journals(args.run_dir, [s for s in args.links.split(",") if s]))
    return 0


def cmd_merge_peer(args: argparse.Namespace, _: Sequence[str]) -> int:
    from .languages import merge_peer
    print(merge_peer(args.run, args.peer))
    return 0


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
    from .per_task import latest_counted, read_counted
    from .scaling import experiment_points

    out = args.out or Path(args.run).parent / "report"
    points = experiment_points(run)
    metgs = metg_table(granularity_points(run))
    embedded = []
    for chart in run_charts(run, _trace_of(run)):
        png, _svg = save_chart(chart, out)
        embedded.append(EmbeddedChart(chart.stem, chart.title, png.read_bytes()))
    counted_path = args.counted or latest_counted(ROOT)
    counted = read_counted(counted_path)
    if args.counted and counted is None:
        raise UnusableInput(f"{args.counted}: not a counted run (scripts/report count writes one)")
    write_text(out / "report.html",
               render_html(run, points, metgs, embedded, counted, counted_path), encoding="utf-8")
    write_text(out / "summary.md", render_summary(run, points, metgs, counted, counted_path),
               encoding="utf-8")
    print(out / "report.html")
    print(out / "summary.md")
    return 0


def cmd_compare(args: argparse.Namespace, extra: list[str]) -> int:
    from . import compare

    threshold = _threshold(args)
    if threshold is None:
        return 2
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

    if sum(map(bool, (args.run, args.plot, args.changes))) != 1:
        return _usage("history: give RUN.json to append, --changes, or --plot NAME (one of them)")
    if args.run:
        print(history.append_run(load_run(args.run), args.dir))
        return 0
    threshold = _threshold(args)
    if threshold is None:
        return 2
    if not args.dir.is_dir():
        raise UnusableInput(f"{args.dir}: no history folder")
    entries = history.load_history(args.dir)
    if args.changes:
        steps = history.history_changes(entries, threshold)
        rows = [[c.benchmark, c.host, c.commit[:12], c.date, seconds(c.before), seconds(c.after),
                 f"{c.change * 100:+.1f}%", f"{c.p:.3f}"] for c in steps]
        print(text_table(["benchmark", "machine", "stepped at", "date", "before", "after",
                          "change", "p"], rows) if rows else
              f"no step beyond {threshold * 100:g}% in {len(entries)} entries")
        return 0
    from .charts import history_chart, save_chart

    key, entries = history.entries_with(entries, args.plot)
    if not entries:
        raise UnusableInput(f"{args.dir}: no entry has the benchmark {key}")
    steps = history.history_changes(entries, threshold, [key])
    for path in save_chart(history_chart(key, entries, steps), args.out or args.dir):
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


def _trace_of(run: Run) -> list[TraceCase]:
    path = trace_path(run.path)
    if not path.is_file():
        return []
    try:
        return load_trace(path)
    except UnusableInput as error:  # the charts without timelines are still worth drawing
        print(f"{PROG}: warning: {error}; no timeline drawn", file=sys.stderr)
        return []
