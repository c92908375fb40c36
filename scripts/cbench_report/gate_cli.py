"""The gate's and the calibration's commands (``scripts/report gate|calibrate``): their
arguments, and the runs they start. The method is in gate.py, pairs.py and calibrate.py."""
from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from .builds import BENCH_BINARY
from .cli_common import BASELINES, ROOT, _git_toplevel, _log, _threshold, _usage
from .load import UnusableInput, load_run
from .files import write_text


def add_gate_parser(sub) -> None:
    """The gate subcommand."""
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


def add_calibrate_parser(sub) -> None:
    """The calibrate subcommand."""
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
            write_text(out / f"{side}.json", json.dumps(pairs.merged_side(manifests, side)) + "\n")
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
