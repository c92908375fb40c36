"""Two builds of the benchmarks on one machine: run them in turn and merge their repetitions.

A B A B ..., one repetition per run: whatever drifts on the machine over the minutes the runs
take (heat, another job, the page cache) falls on both sides alike instead of on whichever
side ran second. ``--commits`` first builds each commit in its own temporary git worktree.
These functions run processes; what they produce is ordinary Google Benchmark JSON that
``load`` and ``compare`` read like any other run.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .load import UnusableInput, read_document

Runner = Callable[..., subprocess.CompletedProcess]
BUILD_DIR = Path("build/release")
BENCH_BINARY = BUILD_DIR / "benchmarks/cbench_bench"
BENCH_TARGET = "cbench_bench"  # builds the CLI too: its fixture server
CLI_BINARY = BUILD_DIR / "cli/cbench"


def interleaved(repetitions: int) -> list[tuple[str, int]]:
    """The order of the runs: ("A", 0), ("B", 0), ("A", 1), ..."""
    return [(side, i) for i in range(repetitions) for side in ("A", "B")]


def bench_command(binary: str | Path, out: Path, filter_regex: str | None,
                  extra: Sequence[str]) -> list[str]:
    """One run of a benchmark binary: one repetition, JSON to ``out``."""
    command = [str(binary), "--benchmark_format=json", f"--benchmark_out={out}",
               "--benchmark_out_format=json", "--benchmark_repetitions=1"]
    if filter_regex:
        command.append(f"--benchmark_filter={filter_regex}")
    return command + list(extra)


def merge_runs(docs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """One Google Benchmark document from several runs of the same binary: the first run's
    context, every iteration row, renumbered as repetitions of one run (aggregate rows are
    dropped: they summarised single runs)."""
    rows: list[dict[str, Any]] = []
    counts: dict[str, int] = {}
    for doc in docs:
        for row in doc["benchmarks"]:
            if row.get("run_type", "iteration") != "iteration":
                continue
            index = counts.get(row["name"], 0)
            counts[row["name"]] = index + 1
            rows.append({**row, "repetition_index": index})
    for row in rows:
        row["repetitions"] = counts[row["name"]]
    context = dict(docs[0]["context"]) if docs else {}
    context["cbench_merged_runs"] = str(len(docs))
    return {"context": context, "benchmarks": rows}


def run_builds(binary_a: str | Path, binary_b: str | Path, out_dir: Path, repetitions: int,
               filter_regex: str | None = None, extra: Sequence[str] = (),
               run: Runner = subprocess.run, log: Callable[[str], None] = lambda _: None
               ) -> tuple[Path, Path]:
    """Runs the two binaries in turn, ``repetitions`` times each; writes ``A.json`` and
    ``B.json`` (merged) into ``out_dir`` and returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    binaries = {"A": binary_a, "B": binary_b}
    docs: dict[str, list[dict[str, Any]]] = {"A": [], "B": []}
    for side, i in interleaved(repetitions):
        out = out_dir / f"{side.lower()}-{i}.json"
        command = bench_command(binaries[side], out, filter_regex, extra)
        log(f"run {2 * i + (side == 'B') + 1}/{2 * repetitions}: {side} = {binaries[side]}")
        errors = out.with_suffix(".log")
        with errors.open("w") as stderr:
            try:
                result = run(command, stdout=subprocess.DEVNULL, stderr=stderr, check=False)
            except OSError as error:
                raise UnusableInput(f"{binaries[side]}: cannot run it ({error.strerror})") from None
        if result.returncode != 0:
            raise UnusableInput(f"{binaries[side]}: exited with status {result.returncode} "
                                f"(standard error in {errors})")
        docs[side].append(read_document(out))
    paths = []
    for side in ("A", "B"):
        path = out_dir / f"{side}.json"
        path.write_text(json.dumps(merge_runs(docs[side]), indent=2) + "\n")
        paths.append(path)
    return paths[0], paths[1]


def build_commands(jobs: int) -> list[list[str]]:
    """How a commit is built, in its worktree: the release preset, the benchmark target."""
    return [["cmake", "--preset", "release"],
            ["cmake", "--build", "--preset", "release", "--target", BENCH_TARGET, "-j", str(jobs)]]


def build_commits(repo: Path, commits: Sequence[str], work_dir: Path, run: Runner = subprocess.run,
                  jobs: int | None = None) -> list[Path]:
    """Builds the benchmark binary of each commit, in order, in one temporary git worktree under
    ``work_dir``: the first from scratch, each later one incrementally after checking it out
    (git rewrites only the files that differ, so only what they touch is compiled again). Each
    binary is copied out with the CLI beside it (``bin-<i>/benchmarks/cbench_bench`` and
    ``bin-<i>/cli/cbench``, the layout the benchmark binary finds its fixture server in) and
    its path returned. A failure names the commit and the log to read; the worktree is removed
    whatever happens."""
    resolved = []
    for commit in commits:
        result = run(["git", "-C", str(repo), "rev-parse", "--verify", "--quiet",
                      f"{commit}^{{commit}}"], capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise UnusableInput(f"commit {commit}: not a commit of {repo}")
        resolved.append(result.stdout.strip())
    work_dir.mkdir(parents=True, exist_ok=True)
    worktree = work_dir / "worktree"
    log_path = work_dir / "build.log"
    binaries = []
    try:
        with log_path.open("w") as log:
            for i, (commit, sha) in enumerate(zip(commits, resolved)):
                checkout = (["git", "-C", str(repo), "worktree", "add", "--detach", str(worktree), sha]
                            if i == 0 else ["git", "-C", str(worktree), "checkout", "--detach",
                                            "--quiet", sha])
                for command in [checkout, *build_commands(jobs or os.cpu_count() or 2)]:
                    _step(command, repo if command[0] == "git" else worktree, commit, log,
                          log_path, run)
                built = worktree / BENCH_BINARY
                if not built.is_file():
                    raise UnusableInput(f"commit {commit}: the build made no {BENCH_BINARY} "
                                        f"(log in {log_path})")
                target = work_dir / f"bin-{i}"
                for part in (BENCH_BINARY, CLI_BINARY):
                    if (worktree / part).is_file():
                        copy = target / part.relative_to(BUILD_DIR)
                        copy.parent.mkdir(parents=True, exist_ok=True)
                        shutil.copy2(worktree / part, copy)
                binaries.append(target / BENCH_BINARY.relative_to(BUILD_DIR))
    finally:
        if worktree.exists():
            run(["git", "-C", str(repo), "worktree", "remove", "--force", str(worktree)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
            shutil.rmtree(worktree, ignore_errors=True)
        run(["git", "-C", str(repo), "worktree", "prune"], stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, check=False)
    return binaries


def _step(command: list[str], cwd: Path, commit: str, log: Any, log_path: Path, run: Runner) -> None:
    log.write("$ " + " ".join(command) + "\n")
    log.flush()
    try:
        result = run(command, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, check=False)
    except OSError as error:
        raise UnusableInput(f"commit {commit}: cannot run {command[0]} ({error.strerror})") from None
    if result.returncode != 0:
        raise UnusableInput(f"commit {commit}: `{' '.join(command[:4])}` failed (log in {log_path})")


@contextmanager
def commit_builds(repo: Path, base: str, head: str, work_dir: Path,
                  run: Runner = subprocess.run) -> Iterator[tuple[Path, Path]]:
    """The benchmark binaries of two commits (``build_commits``)."""
    a, b = build_commits(repo, [base, head], work_dir, run)
    yield a, b
