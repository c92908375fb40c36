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
BENCH_BINARY = Path("build/release/benchmarks/cbench_bench")
BENCH_TARGET = "cbench_bench"


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


def build_commit(repo: Path, commit: str, worktree: Path, run: Runner = subprocess.run,
                 jobs: int | None = None) -> Path:
    """Checks ``commit`` out into ``worktree`` (detached) and builds the benchmark binary there;
    returns its path. A failure names the commit and the log to read."""
    resolved = run(["git", "-C", str(repo), "rev-parse", "--verify", "--quiet", f"{commit}^{{commit}}"],
                   capture_output=True, text=True, check=False)
    if resolved.returncode != 0:
        raise UnusableInput(f"commit {commit}: not a commit of {repo}")
    worktree.parent.mkdir(parents=True, exist_ok=True)
    log_path = worktree.parent / f"{worktree.name}.build.log"
    with log_path.open("w") as log:
        steps = [["git", "-C", str(repo), "worktree", "add", "--detach", str(worktree),
                  resolved.stdout.strip()],
                 *build_commands(jobs or os.cpu_count() or 2)]
        for command in steps:
            cwd = repo if command[0] == "git" else worktree
            log.write("$ " + " ".join(command) + "\n")
            log.flush()
            try:
                result = run(command, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, check=False)
            except OSError as error:
                raise UnusableInput(f"commit {commit}: cannot run {command[0]} "
                                    f"({error.strerror})") from None
            if result.returncode != 0:
                raise UnusableInput(f"commit {commit}: `{' '.join(command[:4])}` failed "
                                    f"(log in {log_path})")
    binary = worktree / BENCH_BINARY
    if not binary.is_file():
        raise UnusableInput(f"commit {commit}: the build made no {BENCH_BINARY} (log in {log_path})")
    return binary


@contextmanager
def commit_builds(repo: Path, base: str, head: str, work_dir: Path,
                  run: Runner = subprocess.run) -> Iterator[tuple[Path, Path]]:
    """The benchmark binaries of two commits, built in temporary worktrees under
    ``work_dir``; the worktrees are removed afterwards."""
    worktrees = [work_dir / "base", work_dir / "head"]
    try:
        yield (build_commit(repo, base, worktrees[0], run), build_commit(repo, head, worktrees[1], run))
    finally:
        for worktree in worktrees:
            if worktree.exists():
                run(["git", "-C", str(repo), "worktree", "remove", "--force", str(worktree)],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
                shutil.rmtree(worktree, ignore_errors=True)
        run(["git", "-C", str(repo), "worktree", "prune"], stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, check=False)
