#!/usr/bin/env python3
"""The gate within its budget, from its plan: the gate's subset as this build lists it, each
case's iterations as Google Benchmark grows them, the time each iteration spends outside the
timing (--cbench_plan), the measured times of the committed quick baseline, one process per
block, 6 screening pairs of A and B, plus the builds and the counted stage. Fails when the plan
exceeds the gate's 20 minutes; prints every stage and the longest blocks. No timing is run.

usage: test_gate_budget.py SOURCE_DIR CBENCH_BENCH"""
import sys
from pathlib import Path

root, binary = Path(sys.argv[1]), Path(sys.argv[2])
sys.path.insert(0, str(root / "scripts"))
from cbench_report import gate, plan  # noqa: E402

baseline = plan.gate_times(root / "results" / "baselines")
print(f"measured times from {baseline.name}")
stages = plan.gate_plan(binary, baseline, gate.SCREEN_PAIRS, confirm_pairs=gate.CONFIRM_PAIRS)
blocks = plan.binary_plan(binary, gate.GATE_SUBSET, gate.GATE_BENCH_ARGS,
                          plan.measured_times(baseline),
                          lambda b: gate.block_subset(b, gate.GATE_SUBSET, True))
for name, seconds in sorted(blocks.blocks.items(), key=lambda kv: -kv[1])[:8]:
    print(f"block {name}: {seconds:.1f} s a run")
if blocks.unknown:
    print(f"{len(blocks.unknown)} rows not in {baseline.name}, taken at the minimum time")
for name, seconds in stages.items():
    print(f"{name}: {seconds / 60:.1f} min")
if stages["total"] > plan.BUDGET_SECONDS:
    print(f"FAIL: the gate's plan takes {stages['total'] / 60:.1f} min, over its "
          f"{plan.BUDGET_SECONDS / 60:.0f} min budget")
    sys.exit(1)
print(f"the gate's plan: {stages['total'] / 60:.1f} of {plan.BUDGET_SECONDS / 60:.0f} min")
