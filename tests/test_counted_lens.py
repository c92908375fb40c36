#!/usr/bin/env python3
"""The counted lens on the real binary under the real Valgrind: the same binary counted twice
gives every row's instructions within the documented spread (docs/counted.md); a fork worker's
instructions and system calls are in its row (a row of fork counts about what the reference
does, not its process alone); the counted stage passes the two runs and names 2% more PBKDF2
work injected into one. Skips (77) without Valgrind.

usage: test_counted_lens.py SOURCE_DIR CBENCH_BENCH"""
import json
import shutil
import sys
import tempfile
from pathlib import Path

root, binary = Path(sys.argv[1]), Path(sys.argv[2])
sys.path.insert(0, str(root / "scripts"))
from cbench_report import count_gate, counted  # noqa: E402

if shutil.which(counted.valgrind()) is None:
    print("valgrind is not installed: the counted lens cannot be tested here")
    sys.exit(77)

FILTER = ("^pbkdf2/executor:(sequential|pool|fork)/mode:map/"
          "|^overhead:dispatch/executor:(sequential|pool|coro)/")
# Each row may move by what the gate allows its family: the documented A/A spread
# (results/baselines/count-spread.json) times the margin, and no less than the threshold.
SPREADS = count_gate.read_spreads()


def allowed(key: str) -> float:
    family = key.split("/")[0] + "/" + key.split("/")[1].removeprefix("executor:")
    return max(count_gate.COUNT_THRESHOLD,
               count_gate.SPREAD_MARGIN * SPREADS.of("instructions", family))
failures = []
with tempfile.TemporaryDirectory() as tmp:
    docs = []
    for i in range(2):
        path = counted.run_count(binary, Path(tmp) / f"run-{i}", FILTER)
        docs.append(json.loads(path.read_text()))
    a, b = (counted.instructions(d) for d in docs)
    if len(a) != 10:  # sequential at 1, pool and fork at 1 and 2, of each family
        failures.append(f"{len(a)} rows counted, not 10: {sorted(a)}")
    for key, (total, _) in a.items():
        other = b.get(key, (0, 0))[0]
        if not total or abs(other / total - 1) > allowed(key):
            failures.append(f"{key}: {total:,.0f} then {other:,.0f} instructions (allowed "
                            f"{allowed(key):.2%})")
    rows = {r["name"].split("/iterations")[0]: r for r in docs[0]["benchmarks"]}
    seq = rows["pbkdf2/executor:sequential/mode:map/workers:1"]
    fork = rows["pbkdf2/executor:fork/mode:map/workers:2"]
    # The fork row's work is done in its workers: without their counts it would be a fraction.
    if not fork["instructions"] > 0.9 * seq["instructions"]:
        failures.append(f"fork's row counts {fork['instructions']:,} instructions against the "
                        f"reference's {seq['instructions']:,}: its workers' are missing")
    if not fork["syscalls_per_task"] > 0:
        failures.append("fork's row counts no system call: its workers' are missing")
    if rows["overhead:dispatch/executor:pool/workers:2"].get("syscalls") is None:
        failures.append("no syscalls counter on the dispatch rows")
    # The counted stage on the two runs of one binary: nothing to report.
    result = count_gate.judge_docs({"A": (docs[0], Path(tmp) / "run-0"),
                                    "B": (docs[1], Path(tmp) / "run-1")})
    if result.regressions:
        failures.append("the same binary twice: " + "; ".join(v.describe() for v in result.regressions))
    # And on a run whose PBKDF2 rows did 2% more work: named, with its functions.
    more = json.loads(json.dumps(docs[1]))
    for row in more["benchmarks"]:
        if row["name"].startswith("pbkdf2/") and "instructions" in row:
            row["instructions"] *= 1.02
            row["instructions_per_task"] *= 1.02
    result = count_gate.judge_docs({"A": (docs[0], Path(tmp) / "run-0"),
                                    "B": (more, Path(tmp) / "run-1")})
    named = [v.describe() for v in result.regressions]
    if named != ["regression: pbkdf2 (every executor) +2.0% instructions per task (counted)"]:
        failures.append(f"2% more PBKDF2 work gave {named}")
for f in failures:
    print("FAIL:", f)
print(f"{len(a)} rows counted twice; " + ("failed" if failures else "every count within its "
                                          "documented spread, workers included"))
sys.exit(1 if failures else 0)
