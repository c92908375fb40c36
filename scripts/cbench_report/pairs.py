"""Paired runs of two benchmark binaries, for the gate (``gate.py``) and its calibration.

The gate's measurements are *pairs*: for each block of benchmarks (one benchmark family, such as
``pbkdf2`` or ``overhead:dispatch``) and each pair index, the binary A and the binary B run that
block one after the other, each in a process of its own, in an order drawn at random and balanced
over the pairs (as many A-first as B-first pairs, docs/design.md "The regression gate"). So:

- the two runs of a pair are seconds apart, not the length of a whole grid: whatever drifts on
  the machine (a slow minute, another job, the page cache) falls on both sides of a pair alike;
- a position effect (the first or second process of a pair being faster) falls on A in half the
  pairs and on B in the other half, and the analysis cancels it exactly (a two-period crossover);
- a suspect block can be run again on its own for the confirmation stage.

What is written: ``DIR/<stage>/p<i>-<block>-<side>.json`` (ordinary Google Benchmark JSON, one
repetition) and ``DIR/<stage>/pairs.json``, the manifest that ``load_pairs`` reads back.
"""
from __future__ import annotations

import json
import random
import re
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .builds import Runner, bench_command
from .load import UnusableInput, load_run, read_document

SIDES = ("A", "B")
MANIFEST = "pairs.json"


@dataclass(frozen=True)
class Pair:
    """One row's two measurements in one pair: ``a_first`` says which side ran first."""

    pair: int
    a_first: bool
    a: float  # seconds
    b: float


def balanced_orders(pairs: int, rng: random.Random) -> list[bool]:
    """``pairs`` orders (True: A first), half of each (the odd one drawn), in a random order."""
    orders = [i < pairs // 2 for i in range(pairs)]
    if pairs % 2:
        orders[-1] = rng.random() < 0.5
    rng.shuffle(orders)
    return orders


def block_of(key: str) -> str:
    """The block a benchmark runs in: its family (the name's first segment)."""
    return key.split("/", 1)[0]


def block_filter(block: str, subset: str) -> str:
    """The --benchmark_filter that runs ``block``'s benchmarks of the gate's subset; ``subset``
    is a regular expression for what follows the family's ``/`` (``""``: all of them). Google
    Benchmark reads it as a POSIX extended expression, so only its special characters are
    escaped."""
    family = re.sub(r"([.^$*+?()\[\]{}|\\])", r"\\\1", block) if block else "[^/]+"
    return f"^{family}/({subset})" if subset else f"^{family}/"


def list_blocks(binary: str | Path, gate_filter: str, extra: Sequence[str],
                run: Runner = subprocess.run) -> list[str]:
    """The blocks the gate's subset has, in the binary's order (--benchmark_list_tests)."""
    command = [str(binary), *extra, "--benchmark_list_tests=true",
               f"--benchmark_filter={block_filter('', gate_filter)}"]
    blocks: list[str] = []
    for line in binary_output(binary, command, "listing the benchmarks", run).splitlines():
        if "/" in line and block_of(line.strip()) not in blocks:
            blocks.append(block_of(line.strip()))
    if not blocks:
        raise UnusableInput(f"{binary}: no benchmark matches the gate's filter {gate_filter!r}")
    return blocks


def binary_output(binary: str | Path, command: Sequence[str], what: str,
                  run: Runner = subprocess.run) -> str:
    """The standard output of ``command`` (the benchmark binary's); one line naming the binary
    and ``what`` failed, with its last line of standard error, when it cannot run or fails."""
    try:
        result = run(list(command), capture_output=True, text=True, check=False)
    except OSError as error:
        raise UnusableInput(f"{binary}: cannot run it ({error.strerror})") from None
    if result.returncode != 0:
        last = (result.stderr or "").strip().splitlines()[-1:] or ["no message"]
        raise UnusableInput(f"{binary}: {what} failed (status {result.returncode}: {last[0]})")
    return result.stdout


def run_pairs(binaries: dict[str, str | Path], out_dir: Path, blocks: Sequence[str], pairs: int,
              seed: int, gate_filter: str = "", extra: Sequence[str] = (),
              run: Runner = subprocess.run, log: Callable[[str], None] = lambda _: None,
              subset_of: Callable[[str], str] | None = None) -> Path:
    """Runs ``pairs`` pairs of every block (A and B in a balanced random order per block) and
    writes their JSON and the manifest into ``out_dir``; returns the manifest's path.
    ``subset_of(block)``: the subset of that block to run (default ``gate_filter``)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    orders = {block: balanced_orders(pairs, rng) for block in blocks}
    entries: list[dict[str, Any]] = []
    manifest = out_dir / MANIFEST
    total, done = pairs * len(blocks) * 2, 0
    for i in range(pairs):
        for block in blocks:
            a_first = orders[block][i]
            entry: dict[str, Any] = {"pair": i, "block": block, "a_first": a_first}
            for side in (SIDES if a_first else SIDES[::-1]):
                out = out_dir / f"p{i:02d}-{_file_part(block)}-{side}.json"
                done += 1
                log(f"pair {i + 1}/{pairs}, {block}, {side} ({done}/{total})")
                subset = subset_of(block) if subset_of else gate_filter
                _run_one(binaries[side], out, block_filter(block, subset), extra, run)
                entry[side] = out.name
            entries.append(entry)
            # After every pair of runs, so that an interrupted gate keeps what it measured.
            manifest.write_text(json.dumps({"seed": seed, "pairs": pairs, "blocks": list(blocks),
                                            "binaries": {s: str(b) for s, b in binaries.items()},
                                            "runs": entries}, indent=1) + "\n")
    return manifest


def load_pairs(manifest: Path) -> dict[str, list[Pair]]:
    """Every benchmark of the runs under ``manifest``: its pairs, rows that failed left out."""
    doc = read_manifest(manifest)
    rows: dict[str, list[Pair]] = {}
    for entry in doc["runs"]:
        a = load_run(manifest.parent / entry["A"]).benchmarks
        b = load_run(manifest.parent / entry["B"]).benchmarks
        for key, bench_a in a.items():
            bench_b = b.get(key)
            if bench_b is None or not bench_a.real_times or not bench_b.real_times:
                continue
            rows.setdefault(key, []).append(
                Pair(entry["pair"], entry["a_first"], bench_a.median, bench_b.median))
    return rows


def read_manifest(manifest: Path) -> dict[str, Any]:
    try:
        doc = json.loads(manifest.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise UnusableInput(f"{manifest}: not a gate manifest ({error})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("runs"), list):
        raise UnusableInput(f"{manifest}: not a gate manifest (no \"runs\" list)")
    return doc


def merged_side(manifests: Sequence[Path], side: str) -> dict[str, Any]:
    """One side's runs as one Google Benchmark document, each pair a repetition (for
    ``report`` and ``compare`` on the gate's output)."""
    from .builds import merge_runs

    docs = []
    for manifest in manifests:
        for entry in read_manifest(manifest)["runs"]:
            docs.append(read_document(manifest.parent / entry[side]))
    return merge_runs(docs)


def _run_one(binary: str | Path, out: Path, filter_regex: str, extra: Sequence[str],
             run: Runner) -> None:
    errors = out.with_suffix(".log")
    with errors.open("w") as stderr:
        try:
            result = run(bench_command(binary, out, filter_regex, extra),
                         stdout=subprocess.DEVNULL, stderr=stderr, check=False)
        except OSError as error:
            raise UnusableInput(f"{binary}: cannot run it ({error.strerror})") from None
    if result.returncode != 0:
        raise UnusableInput(f"{binary}: exited with status {result.returncode} "
                            f"(standard error in {errors})")


def _file_part(block: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", block)
