"""How long a run of the benchmark binary will take, from its plan rather than from a timed run.

A case's duration is what Google Benchmark does with it: its warm-up, then rounds of iterations
grown until the measured time reaches the minimum (``rounds``, the rule of Google Benchmark
1.7), each iteration taking its measured time and whatever it spends outside the timing
(``--cbench_plan`` lists the families that sleep or prepare between iterations: overhead:wake's
2 ms), or a fixed count of iterations where the name says ``iterations:N``. A row's measured
time comes from a committed run of the same preset (``results/baselines/``); a row that run does
not have is taken to measure the minimum time in one iteration. Each block is one process, which
pays its start-up and, for an experiment, the sequential reference once.

``gate_plan`` adds it up for the gate: the timing stage's screening pairs (each block by A and
by B), a confirmation of the three longest blocks (what an innocent change's few suspects cost:
a real gate on a comment confirmed three blocks), the counted stage and the two builds
(constants measured on this project's VM, docs/counted.md). A test holds the plan to the gate's
budget (tests/test_gate_budget.py).
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .load import load_run
from .names import parse_name
from .pairs import binary_output, block_filter, block_of

MAX_ITERATIONS = 1_000_000_000
CONFIRMED_BLOCKS = 3
# What a process of the binary costs before its first case at the quick preset (the fork server,
# the generated corpus, the fixture server for wordcount-http), measured on the project's VM.
START_UP_SECONDS = 0.6
# The gate's other stages, measured on the project's 2-vCPU VM (docs/counted.md): both builds of
# a change to one file (the base from scratch, the head incrementally: 89 s in a real gate, with
# room for a change to a header), and the counted stage (191 s in that gate).
BUILD_SECONDS = 150.0
COUNTED_SECONDS = 200.0
BUDGET_SECONDS = 20 * 60.0


def rounds(measured: float, min_time: float, unmeasured: float = 0.0,
           fixed: int | None = None) -> tuple[int, float]:
    """(iterations run, seconds taken) of one case whose iteration measures ``measured``
    seconds and spends ``unmeasured`` more outside the timing: Google Benchmark grows the
    iterations from 1 (at most 10× a round while a round measures under a tenth of the minimum,
    else to 1.4 × min / measured) until a round measures the minimum; every round is run."""
    if fixed:
        return fixed, fixed * (measured + unmeasured)
    iterations, total_iterations, seconds = 1, 0, 0.0
    while True:
        round_time = iterations * measured
        total_iterations += iterations
        seconds += iterations * (measured + unmeasured)
        if round_time >= min_time or iterations >= MAX_ITERATIONS:
            return total_iterations, seconds
        significant = round_time / min_time > 0.1
        multiplier = min_time * 1.4 / max(round_time, 1e-9) if significant else 10.0
        iterations = min(MAX_ITERATIONS, max(round(multiplier * iterations), iterations + 1))


@dataclass
class Plan:
    blocks: dict[str, float] = field(default_factory=dict)  # one process's run of each block
    unknown: list[str] = field(default_factory=list)  # rows no committed run has

    @property
    def seconds(self) -> float:
        return sum(self.blocks.values())


_ITERATIONS = re.compile(r"/iterations:(\d+)(/|$)")
_MIN_TIME = re.compile(r"--benchmark_min_time=([0-9.]+)")


def plan_rows(names: Sequence[str], measured: Mapping[str, float], notes: Mapping[str, float],
              min_time: float) -> Plan:
    """The plan of these benchmark names (as the binary lists them), one process per block. A
    row no committed run has is taken to measure the minimum time (none, with a fixed count of
    iterations: then only its time outside the timing is known)."""
    plan = Plan()
    references: dict[str, float] = {}
    for name in names:
        key = parse_name(name).key
        block = block_of(key)
        fixed = _ITERATIONS.search(name)
        t = measured.get(key)
        if t is None:
            plan.unknown.append(key)
            t = 0.0 if fixed else min_time
        _, seconds = rounds(t, min_time, notes.get(block, 0.0), int(fixed.group(1)) if fixed else None)
        seconds += t  # the warm-up
        if "/executor:sequential/" in key and "/mode:" in key:
            references[block] = t  # the reference, computed once per workload
        plan.blocks[block] = plan.blocks.get(block, START_UP_SECONDS) + seconds
    for block, t in references.items():
        plan.blocks[block] += t
    return plan


def binary_plan(binary: str | Path, gate_filter: str, bench_args: Sequence[str],
                measured: Mapping[str, float], subset_of=None) -> Plan:
    """The plan of the binary's cases that ``gate_filter`` selects (its listing and its
    ``--cbench_plan`` notes), with ``measured`` times; ``subset_of(block)``: the part of a
    block that runs (gate.block_subset), default all of it."""
    base = [str(binary), *bench_args, f"--benchmark_filter={block_filter('', gate_filter)}"]
    listing = binary_output(binary, base + ["--benchmark_list_tests=true"], "listing its cases")
    notes = {}
    for line in binary_output(binary, base + ["--cbench_plan"], "listing its plan").splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == "unmeasured":
            notes[parts[1]] = float(parts[2])
    min_time = 0.0
    for arg in bench_args:
        m = _MIN_TIME.fullmatch(arg)
        if m:
            min_time = float(m.group(1))
    names = [line.strip() for line in listing.splitlines() if "/" in line]
    if subset_of is not None:
        names = [n for n in names
                 if re.search(block_filter(block_of(n), subset_of(block_of(n))), n)]
    return plan_rows(names, measured, notes, min_time or 0.5)


def measured_times(run_json: Path) -> dict[str, float]:
    """Per row key, the median measured seconds of one iteration in a committed run."""
    return {key: b.median for key, b in load_run(run_json).benchmarks.items()}


def gate_times(baselines: Path) -> Path:
    """The committed times of the gate's subset on this machine's class
    (``gate-times-<class>.json``, one run of every block), else those of another class (the
    times of a similar machine are a better plan than none), else the quick preset's baseline."""
    from .calibrate import machine_class

    mine = baselines / f"gate-times-{machine_class()}.json"
    others = sorted(baselines.glob("gate-times-*.json"))
    return mine if mine.is_file() else others[0] if others else baselines / "quick-2core-vm.json"


def gate_plan(binary: str | Path, baseline: Path, pairs: int, counted: bool = True,
              confirm_pairs: int = 8) -> dict[str, float]:
    """The gate's stages in seconds: builds, counted, screening (``pairs`` pairs of every block
    of its subset, trimmed as the gate trims it when the counted stage runs), a confirmation of
    the longest blocks on ``confirm_pairs`` pairs, and the total, against ``BUDGET_SECONDS``."""
    from .gate import GATE_BENCH_ARGS, GATE_SUBSET, block_subset

    plan = binary_plan(binary, GATE_SUBSET, GATE_BENCH_ARGS, measured_times(baseline),
                       lambda block: block_subset(block, GATE_SUBSET, counted))
    longest = sorted(plan.blocks.values(), reverse=True)[:CONFIRMED_BLOCKS]
    stages = {"builds": BUILD_SECONDS, "counted": COUNTED_SECONDS if counted else 0.0,
              "screening": 2 * pairs * plan.seconds,
              "confirmation": 2 * confirm_pairs * sum(longest)}
    stages["total"] = sum(stages.values())
    return stages
