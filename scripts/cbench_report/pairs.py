"""Paired runs of two benchmark binaries, for the gate (``gate.py``) and its calibration.

The gate's measurements are *pairs*: for each block of benchmarks (one benchmark family, such as
``pbkdf2`` or ``overhead:dispatch``) and each pair index, the binary A and the binary B run that
block one after the other, each in a process of its own, in an order drawn at random and balanced
over the pairs (as many A-first as B-first pairs, docs/design.md "The regression gate"). So:

- the two runs of a pair are seconds apart, not the length of a whole grid: whatever drifts on
  the machine (a slow minute, another job, the page cache) falls on both sides of a pair alike;
- a position effect (the first or second process of a pair being faster) falls on A in half the
  pairs and on B in the other half, and the analysis cancels it exactly (a two-period crossover);
- a suspect block can be run again on its own for the confirmation stage;
- a pair beside which other processes kept half a core or more busy (the host watch's
  ``host_others`` counter on any row of either side, docs/design.md "A disturbed case") is run
  again at the end of its stage, at most twice, so that a busy minute of the host does not
  become a verdict; the manifest keeps the quietest of its runs and counts the pairs run again.

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
from .files import write_text

SIDES = ("A", "B")
MANIFEST = "pairs.json"
# host_others at or beyond this on either side: the pair ran beside another busy process. Higher
# than the main run's quarter of a core (host_watch.cpp): a gate's runs are short processes, and
# on this VM quiet pairs showed up to 0.44 cores of other work around them (kernel threads, the
# previous run's processes ending), while a process keeping a core busy showed 1.07-1.29.
OTHERS_LIMIT = 0.5
MAX_RUNS = 3         # a pair and at most two runs again


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

    def write_manifest() -> None:
        # After every pair of runs, so that an interrupted gate keeps what it measured.
        write_text(manifest, json.dumps({"seed": seed, "pairs": pairs, "blocks": list(blocks),
                                         "binaries": {s: str(b) for s, b in binaries.items()},
                                         "runs": entries}, indent=1) + "\n")

    def run_pair(entry: dict[str, Any], attempt: int, progress: str) -> None:
        i, block = entry["pair"], entry["block"]
        suffix = f".{attempt}" if attempt else ""
        for side in (SIDES if entry["a_first"] else SIDES[::-1]):
            out = out_dir / f"p{i:02d}-{_file_part(block)}-{side}{suffix}.json"
            log(f"pair {i + 1}/{pairs}, {block}, {side} ({progress})")
            subset = subset_of(block) if subset_of else gate_filter
            _run_one(binaries[side], out, block_filter(block, subset), extra, run)
            entry[side] = out.name
        entry["host_others"] = max(others_of(out_dir / entry[side]) for side in SIDES)

    for i in range(pairs):
        for block in blocks:
            entry: dict[str, Any] = {"pair": i, "block": block, "a_first": orders[block][i]}
            done += 2
            run_pair(entry, 0, f"{done}/{total}")
            entries.append(entry)
            write_manifest()
    # Pairs run beside another busy process: again at the end, keeping the quietest run.
    for attempt in range(1, MAX_RUNS):
        again = [e for e in entries if e["host_others"] >= OTHERS_LIMIT]
        if not again:
            break
        log(f"{len(again)} pair(s) ran beside another busy process: running them again "
            f"({attempt} of {MAX_RUNS - 1})")
        for n, entry in enumerate(again, 1):
            before = dict(entry)
            run_pair(entry, attempt, f"again {n}/{len(again)}")
            entry["runs"] = before.get("runs", 1) + 1
            if entry["host_others"] > before["host_others"]:  # the earlier run was quieter
                entry.update({k: before[k] for k in ("A", "B", "host_others")})
            write_manifest()
    return manifest


def others_of(path: Path) -> float:
    """The most CPU other processes took beside any row of a run (host_others; 0: unwatched)."""
    try:
        rows = json.loads(path.read_text()).get("benchmarks", [])
    except (OSError, json.JSONDecodeError, AttributeError):
        return 0.0
    values = [r.get("host_others") for r in rows if isinstance(r, dict)]
    return max((float(v) for v in values if isinstance(v, (int, float))), default=0.0)


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
