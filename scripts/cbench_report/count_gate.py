"""The gate's counted stage: did B's cases execute more (or fewer) instructions than A's?

One counted run a side (``counted.py``). Families as the timing stage has them (each workload, and
each workload x executor, ``gate.families``); a family's change is the median over its rows of
ln(B / A) of the instructions each row's measured run executed. A change beyond the threshold
(1%) and beyond the lens's own A/A spread is a verdict, named with its lens: the work is what the
code does, so a change in work is one whether or not time could see it (docs/counted.md).

A pull request that changes the work on purpose says so in a commit trailer between the two
commits, naming the families: ``Cbench-Expected-Change: pbkdf2, overhead:dispatch/fork``. The
gate then reports those changes as expected and does not fail on them.
"""
from __future__ import annotations

import math
import statistics
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .gate import REGRESSION, IMPROVEMENT, Family, families

COUNT_THRESHOLD = 0.01
# The largest change of any family between two counted runs of one binary (20 A/A runs on the
# project's 2-vCPU VM; docs/counted.md): a verdict needs a change beyond it as well.
COUNT_SPREAD = 0.002
TRAILER = "Cbench-Expected-Change"


@dataclass(frozen=True)
class CountEffect:
    family: Family
    change: float  # exp(median ln(B/A)) - 1 over the family's rows
    rows: int


@dataclass
class CountVerdict:
    kind: str
    workload: str
    executors: tuple[str, ...]
    effect: CountEffect
    expected: bool = False
    functions: list[tuple[str, int, int]] = field(default_factory=list)

    def describe(self) -> str:
        who = "every executor" if not self.executors else "executor " + ", ".join(self.executors)
        text = (f"{self.kind}: {self.workload} ({who}) {self.effect.change * 100:+.1f}% "
                f"instructions per task (counted)")
        return text + (" — expected, named by a commit's " + TRAILER if self.expected else "")

    @property
    def family_name(self) -> str:
        return self.workload + ("/" + self.executors[0] if len(self.executors) == 1 else "")


@dataclass
class CountResult:
    effects: list[CountEffect]
    verdicts: list[CountVerdict]
    rows: int
    threshold: float
    spread: float
    missing: list[str] = field(default_factory=list)  # rows counted on one side only

    @property
    def regressions(self) -> list[CountVerdict]:
        return [v for v in self.verdicts if v.kind == REGRESSION and not v.expected]


def effects(a: Mapping[str, float], b: Mapping[str, float]) -> list[CountEffect]:
    keys = [k for k in a if k in b and a[k] > 0 and b[k] > 0]
    out = []
    for fam in families(keys):
        logs = [math.log(b[k] / a[k]) for k in fam.rows]
        out.append(CountEffect(fam, math.expm1(statistics.median(logs)), len(logs)))
    return out


def judge(a: Mapping[str, float], b: Mapping[str, float], threshold: float = COUNT_THRESHOLD,
          spread: float = COUNT_SPREAD, expected: Iterable[str] = ()) -> CountResult:
    """The counted verdicts from A's and B's instructions per row key. A workload moved as a
    whole when the median of its executor families' changes is beyond the bounds: one verdict
    naming no executor; otherwise each executor family beyond them is named."""
    bound = max(threshold, spread)
    found = effects(a, b)
    by_name = {e.family.name: e for e in found}
    verdicts: list[CountVerdict] = []
    for kind, sign in ((REGRESSION, 1.0), (IMPROVEMENT, -1.0)):
        for workload in dict.fromkeys(e.family.workload for e in found):
            whole = by_name.get(workload)
            parts = [e for e in found if e.family.workload == workload and e.family.executor]
            typical = (statistics.median([e.change * sign for e in parts]) if parts
                       else (whole.change * sign if whole else 0.0))
            if whole is not None and typical > bound:
                verdicts.append(CountVerdict(kind, workload, (), whole))
                continue
            for e in sorted(parts, key=lambda e: -abs(e.change)):
                if e.change * sign > bound:
                    verdicts.append(CountVerdict(kind, workload, (e.family.executor,), e))
    names = set(expected)
    for v in verdicts:
        v.expected = v.workload in names or v.family_name in names
    missing = sorted(set(a) ^ set(b))
    return CountResult(found, verdicts, len(set(a) & set(b)), threshold, spread, missing)


def expected_families(repo: Path, base: str, head: str) -> list[str]:
    """The families the commits after ``base`` up to ``head`` name in their trailers."""
    result = subprocess.run(
        ["git", "-C", str(repo), "log", f"--format=%(trailers:key={TRAILER},valueonly)",
         f"{base}..{head}"], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        return []
    names = []
    for line in result.stdout.splitlines():
        names += [n.strip() for n in line.split(",") if n.strip()]
    return list(dict.fromkeys(names))


def format_result(result: CountResult, markdown: bool = False) -> str:
    lead = "- " if markdown else "  "
    bad = result.regressions
    title = (f"{len(bad)} counted regression(s)" if bad else "no counted regression")
    lines = [f"#### Counted lens: {title}" if markdown else f"counted: {title}"]
    for v in result.verdicts:
        lines.append(lead + v.describe())
        for name, was, now in v.functions:
            change = f"{(now - was) / was * 100:+.1f}%" if was else "new"
            lines.append(("  " + lead if markdown else "      ")
                         + f"{name}: {was:,} -> {now:,} instructions ({change})")
    lines.append(lead + f"{result.rows} rows in {len(result.effects)} families counted once a "
                 f"side; a verdict needs a change beyond {max(result.threshold, result.spread) * 100:g}% "
                 f"(threshold {result.threshold * 100:g}%, A/A spread {result.spread * 100:g}%).")
    if result.missing:
        lines.append(lead + f"{len(result.missing)} rows counted on one side only (left out): "
                     + ", ".join(result.missing[:5]) + (" ..." if len(result.missing) > 5 else ""))
    return "\n".join(lines) + "\n"


def result_json(result: CountResult) -> dict:
    return {"verdicts": [{"kind": v.kind, "workload": v.workload, "executors": list(v.executors),
                          "change": v.effect.change, "expected": v.expected, "text": v.describe(),
                          "functions": [list(f) for f in v.functions]} for v in result.verdicts],
            "families": [{"family": e.family.name, "change": e.change, "rows": e.rows}
                         for e in result.effects],
            "threshold": result.threshold, "spread": result.spread, "missing": result.missing}


def largest_row(family: Family, a: Mapping[str, float], b: Mapping[str, float]) -> str | None:
    rows = [k for k in family.rows if a.get(k) and b.get(k)]
    return max(rows, key=lambda k: abs(math.log(b[k] / a[k])), default=None)


def name_functions(result: CountResult, docs: Sequence[tuple[dict, Path]],
                   a: Mapping[str, float], b: Mapping[str, float], most: int = 5) -> None:
    """Each verdict gets the functions whose instructions changed most in its family's row that
    moved most (a diff of the two sides' callgrind dumps of that row)."""
    from .counted import dumps_of, function_changes

    (doc_a, dir_a), (doc_b, dir_b) = docs
    for v in result.verdicts:
        key = largest_row(v.effect.family, a, b)
        if key is None:
            continue
        v.functions = function_changes(dumps_of(doc_a, key, dir_a), dumps_of(doc_b, key, dir_b),
                                       most)


def judge_docs(docs: Mapping[str, tuple[dict, Path]], expected: Iterable[str] = (),
               threshold: float = COUNT_THRESHOLD, spread: float = COUNT_SPREAD) -> CountResult:
    """The counted stage on two counted runs ({"A": (doc, dir), "B": ...}): verdicts, each
    with the functions that moved."""
    from .counted import instructions

    a = {k: v[1] for k, v in instructions(docs["A"][0]).items()}
    b = {k: v[1] for k, v in instructions(docs["B"][0]).items()}
    kernels = {side: doc.get("context", {}).get("cbench_word_scan_kernel", "")
               for side, (doc, _) in docs.items()}
    result = judge(a, b, threshold, spread, expected)
    if kernels["A"] != kernels["B"]:
        # Counts of different kernels are not one change: say so rather than compare them.
        result.missing.append(f"(word-scan kernels differ: A {kernels['A']}, B {kernels['B']})")
    name_functions(result, [docs["A"], docs["B"]], a, b)
    return result


def run_stage(binaries: Mapping[str, str | Path], out: Path, filter_regex: str,
              expected: Iterable[str] = (), log=lambda _: None) -> CountResult:
    """One counted run a side (A, then B) under ``out``/A and ``out``/B, judged."""
    import json

    from .counted import run_count

    docs = {}
    for side in ("A", "B"):
        log(f"counted lens: {side} under callgrind ({binaries[side]})")
        path = run_count(binaries[side], out / side, filter_regex)
        docs[side] = (json.loads(path.read_text()), out / side)
    return judge_docs(docs, expected)


def load_stage(out: Path, expected: Iterable[str] = ()) -> CountResult | None:
    """The counted stage an earlier gate wrote under ``out`` judged again; None without one."""
    import json

    from .counted import COUNTED_JSON

    paths = {side: out / side / COUNTED_JSON for side in ("A", "B")}
    if not all(p.is_file() for p in paths.values()):
        return None
    return judge_docs({side: (json.loads(p.read_text()), p.parent) for side, p in paths.items()},
                      expected)
