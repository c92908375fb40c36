"""The command line: ``scripts/report load|assemble|remeasure|merge-links|merge-peer|plot|report|compare|gate|calibrate|count|history``. Thin: it
parses arguments, calls the package's functions and turns ``UnusableInput`` into one line on
standard error and exit status 2 (compare and gate: 0 no regression, 1 a regression, 2 unusable
input)."""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import traceback
from collections.abc import Sequence
from pathlib import Path

# Only the light modules here: each command imports what it needs (NumPy, SciPy, matplotlib take
# most of a second to import, and `load` or a bad file should not wait for them).
from .builds import BENCH_BINARY
from .load import Run, UnusableInput, load_run
from .style import machine_line
from .text import seconds, text_table
from .trace import TraceCase, load_trace, trace_path

PROG = "report"
ROOT = Path(__file__).resolve().parents[2]  # the checkout this package belongs to
BASELINES = ROOT / "results" / "baselines"  # committed baselines and the gate's noise profiles


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

    p = sub.add_parser(
        "gate", help="the regression gate of a pull request: two commits (or builds), measured in pairs",
        description="Builds BASE and HEAD (one worktree, the second build incremental), runs the "
                    "gate's subset of the grid in pairs (each benchmark family by A and B back to "
                    "back, in a balanced random order), screens every workload and workload x "
                    "executor family, re-runs the suspects on fresh pairs to confirm them, and "
                    "names what regressed. Its defaults are the CI configuration. Exit 0: no "
                    "regression (improvements are reported); 1: a regression; 2: unusable input "
                    "or a failed build.",
        epilog="Method and measured error rates: docs/design.md (The regression gate) and "
               "docs/gate.md. `--pairs-dir DIR` judges the pairs an earlier gate wrote to DIR again.")
    mode = p.add_mutually_exclusive_group(required=True)
    mode.add_argument("--commits", nargs=2, metavar=("BASE", "HEAD"))
    mode.add_argument("--builds", nargs=2, metavar=("A_BINARY", "B_BINARY"))
    mode.add_argument("--pairs-dir", type=Path, metavar="DIR",
                      help="judge the pairs already measured in DIR (a gate's -o folder)")
    _gate_options(p)
    p.add_argument("--threshold", default=f"{gate_defaults()['threshold']}%",
                   help="smallest change that counts (default %(default)s)")
    p.add_argument("--alpha", type=float, default=gate_defaults()["alpha"],
                   help="family-wise error rate of the confirmation (default %(default)s)")
    p.add_argument("--confirm-pairs", type=int, default=gate_defaults()["confirm_pairs"],
                   help="pairs of the confirmation stage (default %(default)s)")
    p.add_argument("--markdown", action="store_true", help="print Markdown (for a job summary)")
    p.add_argument("--profile", type=Path, metavar="FILE",
                   help="the noise profile to use (default: the one in results/baselines/ for "
                        "this machine's class, if any)")
    p.add_argument("--no-profile", action="store_true", help="use no noise profile")
    p.add_argument("--no-count", action="store_true",
                   help="skip the counted stage (instructions under callgrind): time alone")
    p.add_argument("--expected-change", metavar="FAMILIES",
                   help="families whose counted change is on purpose (comma-separated; commits "
                        "mode also reads the commits' Cbench-Expected-Change trailers)")
    p.add_argument("--repo", type=Path, default=Path("."),
                   help="commits mode: the git repository (default: the current folder)")
    p.set_defaults(handler=cmd_gate)

    from .count_cli import add_count_parser

    add_count_parser(sub)

    p = sub.add_parser(
        "calibrate", help="measure the gate's false-alarm and detection rates on this machine",
        description="Runs one benchmark binary against itself for a pool of pairs (A/A), learns "
                    "the machine's noise profile from it, and replays the gate on pairs drawn "
                    "from the pool: as measured (false alarms) and with 5%, 10% and 2x "
                    "slowdowns injected into one workload, and a doubled dispatch cost of one "
                    "executor (detections). Prints the rates and writes the profile.",
        epilog="Defaults: the release build of this tree, the gate's subset and arguments.")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--binary", type=Path, metavar="BINARY",
                     help="the benchmark binary (default build/release/benchmarks/cbench_bench)")
    src.add_argument("--pairs-dir", type=Path, nargs="+", metavar="DIR",
                     help="reuse the A/A pool(s) earlier calibrate runs wrote (several are "
                          "pooled)")
    _gate_options(p, pairs_default=16)
    p.add_argument("--trials", type=int, default=20, help="trials of each kind (default 20)")
    p.add_argument("--profile-out", type=Path, metavar="FILE",
                   help="where to write the profile (default: results/baselines/"
                        "gate-profile-<machine class>.json)")
    p.add_argument("--count-runs", type=int, default=10,
                   help="counted runs of the binary for the counted lens's spreads and trials "
                        "(default 10; 0: the timing lens only)")
    p.add_argument("--counted", type=Path, nargs="+", metavar="DIR",
                   help="reuse the counted runs of earlier `count --runs` folders instead")
    p.add_argument("--spread-out", type=Path, metavar="FILE",
                   help="where to write the counted lens's spreads (default: results/baselines/"
                        "count-spread.json)")
    p.set_defaults(handler=cmd_calibrate)

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
    return parser


def cmd_assemble(args: argparse.Namespace, extra: Sequence[str]) -> int:
    from .journal import write_assembled
    out = args.out or args.journal.with_name("results.json")
    result = write_assembled(args.journal, out)
    cut = f"; {result.cut_lines} cut-off line(s) left out" if result.cut_lines else ""
    print(f"{result.finished} of {result.cases} cases in {out}{cut}")
    return 0


def cmd_remeasure(args: argparse.Namespace, _: Sequence[str]) -> int:
    from .journal import to_measure_again

    names = to_measure_again(args.journal)
    args.out.write_text("".join(f"{n}\n" for n in names))
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
    (out / "report.html").write_text(render_html(run, points, metgs, embedded, counted,
                                                 counted_path), encoding="utf-8")
    (out / "summary.md").write_text(render_summary(run, points, metgs, counted, counted_path),
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


def gate_defaults() -> dict:
    # The gate's constants without importing SciPy for --help (gate.py imports it lazily).
    from . import gate

    return {"threshold": f"{gate.THRESHOLD * 100:g}", "alpha": gate.ALPHA,
            "confirm_pairs": gate.CONFIRM_PAIRS, "pairs": gate.SCREEN_PAIRS}


def _gate_options(p: argparse.ArgumentParser, pairs_default: int | None = None) -> None:
    p.add_argument("--pairs", type=int, default=pairs_default or gate_defaults()["pairs"],
                   help="pairs of runs (default %(default)s)")
    p.add_argument("--seed", type=int, help="seed of the run order (default: drawn, and printed)")
    p.add_argument("-o", "--out", type=Path, metavar="DIR",
                   help="where the builds, runs and results go (default: a new temporary folder)")


def _gate_bench_args(extra: list[str]) -> tuple[list[str], str]:
    """The benchmark arguments and the subset the gate runs: its own, unless arguments after
    `--` replace them (then the whole grid they select)."""
    from . import gate

    return (list(extra), "") if extra else (list(gate.GATE_BENCH_ARGS), gate.GATE_SUBSET)


def _log(line: str) -> None:
    print(f"{PROG}: {line}", file=sys.stderr)


def _seed(args: argparse.Namespace) -> int:
    import random

    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1 << 31)
    _log(f"run order seed {seed} (--seed {seed} repeats it)")
    return seed


def _profile(args: argparse.Namespace):
    from . import calibrate

    if args.no_profile:
        return None
    if args.profile:
        return calibrate.read_profile(args.profile)
    found = calibrate.find_profile(BASELINES)
    _log(f"noise profile: {found.source}" if found else
         f"noise profile: none for machine class {calibrate.machine_class()}")
    return found


def cmd_gate(args: argparse.Namespace, extra: list[str]) -> int:
    from . import builds, gate, pairs

    threshold = _threshold(args)
    if threshold is None:
        return 2
    if not 0 < args.alpha < 1:
        return _usage("gate: --alpha must be between 0 and 1")
    if args.pairs < 3 or args.confirm_pairs < 3:
        return _usage("gate: --pairs and --confirm-pairs must be at least 3")
    if extra and args.pairs_dir:
        return _usage("gate: arguments after -- are for the benchmark binaries, which --pairs-dir "
                      "does not run")
    from . import count_cli

    profile = _profile(args)
    bench_args, subset = _gate_bench_args(extra)
    stages = count_cli.Stages(_log)
    counted = None
    if args.pairs_dir:
        out = args.pairs_dir
        counted = count_cli.load_counted(out, args)
        screen_manifest = out / "screen" / pairs.MANIFEST
        confirm_manifest = out / "confirm" / pairs.MANIFEST
        screen_rows = pairs.load_pairs(screen_manifest)
        confirm_rows = pairs.load_pairs(confirm_manifest) if confirm_manifest.is_file() else None
        result = gate.decide(screen_rows, confirm_rows, profile, threshold, args.alpha)
    else:
        out = args.out or Path(tempfile.mkdtemp(prefix="cbench-gate-"))
        seed = _seed(args)
        if args.commits:
            repo = _git_toplevel(args.repo)
            _log(f"building {args.commits[0]} and {args.commits[1]} under {out / 'builds'}")
            with stages("builds"):
                a, b = builds.build_commits(repo, args.commits, out / "builds")
        else:
            a, b = (Path(x) for x in args.builds)
        binaries = {"A": a, "B": b}
        with stages("counted"):
            counted = count_cli.counted_stage(binaries, out, subset, args, extra, _log)
        blocks = pairs.list_blocks(a, subset, bench_args)
        _log(f"screening: {args.pairs} pairs of {len(blocks)} blocks ({', '.join(blocks)})")
        def subset_of(block: str) -> str:
            return gate.block_subset(block, subset, counted is not None)

        with stages("screening"):
            screen_manifest = pairs.run_pairs(binaries, out / "screen", blocks, args.pairs, seed,
                                              subset, bench_args, log=_log, subset_of=subset_of)
        screen_rows = pairs.load_pairs(screen_manifest)
        result = gate.decide(screen_rows, None, profile, threshold, args.alpha)
        confirm_manifest = None
        if result.suspects:
            again = gate.suspect_blocks(result.suspects)
            _log(f"confirming {len(result.suspects)} suspect(s) on {args.confirm_pairs} fresh "
                 f"pairs of {', '.join(again)}")
            with stages("confirmation"):
                confirm_manifest = pairs.run_pairs(binaries, out / "confirm", again,
                                                   args.confirm_pairs, seed + 1, subset,
                                                   bench_args, log=_log, subset_of=subset_of)
            result = gate.decide(screen_rows, pairs.load_pairs(confirm_manifest), profile,
                                 threshold, args.alpha)
        manifests = [m for m in (screen_manifest, confirm_manifest) if m is not None]
        for side in pairs.SIDES:
            (out / f"{side}.json").write_text(json.dumps(pairs.merged_side(manifests, side)) + "\n")
        _log(f"runs of each side merged into {out / 'A.json'} and {out / 'B.json'}")
    return count_cli.finish_gate(out, result, counted, stages, args.markdown)


def cmd_calibrate(args: argparse.Namespace, extra: list[str]) -> int:
    from . import calibrate, gate, pairs

    if args.pairs < gate.SCREEN_PAIRS + gate.CONFIRM_PAIRS:
        return _usage(f"calibrate: --pairs must be at least {gate.SCREEN_PAIRS + gate.CONFIRM_PAIRS} "
                      f"(a trial draws {gate.SCREEN_PAIRS} + {gate.CONFIRM_PAIRS} of them)")
    if args.trials < 1:
        return _usage("calibrate: --trials must be at least 1")
    seed = _seed(args)
    if args.pairs_dir:
        manifests = [d / pairs.MANIFEST for d in args.pairs_dir]
    else:
        binary = args.binary or ROOT / BENCH_BINARY
        if not binary.is_file():
            raise UnusableInput(f"{binary}: no benchmark binary (cmake --build --preset release)")
        out = args.out or Path(tempfile.mkdtemp(prefix="cbench-calibrate-"))
        bench_args, subset = _gate_bench_args(extra)
        blocks = pairs.list_blocks(binary, subset, bench_args)
        _log(f"A/A pool: {args.pairs} pairs of {len(blocks)} blocks of {binary}")
        manifests = [pairs.run_pairs({"A": binary, "B": binary}, out, blocks, args.pairs, seed,
                                     subset, bench_args, log=_log)]
    pool: dict = {}
    for manifest in manifests:
        pool = gate.combine(pool, pairs.load_pairs(manifest))
    pool_pairs = len({p.pair for ps in pool.values() for p in ps})
    profile = calibrate.learn_profile(pool, str(args.profile_out or "this pool"))
    with_profile = calibrate.rates(calibrate.run_trials(pool, args.trials, seed, profile))
    without = calibrate.rates(calibrate.run_trials(pool, args.trials, seed, None))
    print(calibrate.format_rates(with_profile, without, pool_pairs))
    first = pairs.read_manifest(manifests[0])["runs"][0]
    context = load_run(manifests[0].parent / first["A"]).context
    path = args.profile_out or BASELINES / f"gate-profile-{profile.machine_class}.json"
    calibrate.save_profile(profile, path, context,
                           {"pool_pairs": pool_pairs,
                            "with_profile": with_profile, "without_profile": without})
    print(f"\nnoise profile written to {path}")
    from .count_cli import calibrate_counted

    return calibrate_counted(args, args.binary or ROOT / BENCH_BINARY, extra)


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


def _threshold(args: argparse.Namespace) -> float | None:
    """--threshold as a fraction; None (the error printed) when it is not a percentage."""
    from .compare import parse_threshold

    try:
        return parse_threshold(args.threshold)
    except ValueError:
        _usage(f"{args.command}: --threshold {args.threshold!r} is not a percentage such as 5%")
        return None


def _usage(message: str) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return 2
