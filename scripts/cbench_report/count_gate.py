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
from .load import UnusableInput, is_number

# A verdict needs a change beyond the threshold and beyond SPREAD_MARGIN times the family's
# A/A spread (the largest change between any two of the counted runs of one binary that
# `scripts/report count --runs N --spread-out` measured, results/baselines/count-spread.json);
# a family whose spread is beyond SPREAD_LIMIT is left to the timing lens. Instructions compare
# as a ratio; system calls per task as a difference (a path without any has none to divide by).
COUNT_THRESHOLD = 0.01
SYSCALL_THRESHOLD = 0.5  # system calls per task
# System calls are judged on rows of many tasks only (dispatch, the nested fork-joins): a run of
# 8 tasks gains or loses a few calls of the threads of other cases' runtimes waking up, which is
# half a call per task.
SYSCALL_MIN_TASKS = 1000
SPREAD_MARGIN = 2.0
SPREAD_LIMIT = {"instructions": 0.01, "syscalls": 0.3}
SPREAD_FILE = Path(__file__).resolve().parents[2] / "results" / "baselines" / "count-spread.json"
TRAILER = "Cbench-Expected-Change"
METRICS = ("instructions", "syscalls")


@dataclass(frozen=True)
class Spreads:
    """Per metric and family, the largest A/A change measured (a fraction for instructions,
    system calls per task for syscalls), and where it comes from."""

    families: Mapping[str, Mapping[str, float]]
    source: str = ""
    runs: int = 0

    def of(self, metric: str, family: str) -> float:
        """The family's spread; an executor's family not measured takes its workload's."""
        measured = self.families.get(metric, {})
        return measured.get(family, measured.get(family.split("/", 1)[0], 0.0))


NO_SPREADS = Spreads({})


def read_spreads(path: Path = SPREAD_FILE) -> Spreads:
    """The spreads written by `count --spread-out`; none when the file is missing, and
    UnusableInput naming it when it is not such a file."""
    import json

    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return NO_SPREADS
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise UnusableInput(f"{path}: cannot read the counted lens's spreads ({error})") from None
    families = doc.get("families") if isinstance(doc, dict) else None
    if not isinstance(families, dict) or not all(
            isinstance(by_family, dict) and all(is_number(v) for v in by_family.values())
            for by_family in families.values()):
        raise UnusableInput(f"{path}: not the counted lens's spreads (expected \"families\": "
                            f"metric -> family -> a number)")
    runs = doc.get("runs", 0)
    return Spreads(families, str(path), runs if isinstance(runs, int) else 0)


@dataclass(frozen=True)
class CountEffect:
    family: Family
    change: float  # instructions: exp(median ln(B/A)) - 1; syscalls: median (B - A) per task
    rows: int
    metric: str = "instructions"
    bound: float = COUNT_THRESHOLD

    def text(self) -> str:
        if self.metric == "syscalls":
            return f"{self.change:+.2f} system calls per task (counted)"
        return f"{self.change * 100:+.1f}% instructions per task (counted)"


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
        text = f"{self.kind}: {self.workload} ({who}) {self.effect.text()}"
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
    spreads: Spreads = NO_SPREADS
    missing: list[str] = field(default_factory=list)  # rows counted on one side only
    unjudged: list[str] = field(default_factory=list)  # families left to the timing lens

    @property
    def regressions(self) -> list[CountVerdict]:
        return [v for v in self.verdicts if v.kind == REGRESSION and not v.expected]


def effects(a: Mapping[str, float], b: Mapping[str, float], metric: str = "instructions",
            bound=lambda family: COUNT_THRESHOLD) -> list[CountEffect]:
    """Each family's change: the median over its rows of ln(B/A) (instructions) or B - A
    (system calls per task)."""
    if metric == "syscalls":
        keys = [k for k in a if k in b]
        change = lambda rows: statistics.median([b[k] - a[k] for k in rows])  # noqa: E731
    else:
        keys = [k for k in a if k in b and a[k] > 0 and b[k] > 0]
        change = lambda rows: math.expm1(statistics.median(  # noqa: E731
            [math.log(b[k] / a[k]) for k in rows]))
    return [CountEffect(f, change(f.rows), len(f.rows), metric, bound(f.name))
            for f in families(keys)]


def judge(a: Mapping[str, float], b: Mapping[str, float], threshold: float = COUNT_THRESHOLD,
          spreads: Spreads = NO_SPREADS, expected: Iterable[str] = (),
          metric: str = "instructions") -> CountResult:
    """The counted verdicts from A's and B's counts per task per row key. A workload moved as a
    whole when the median of its executor families' changes is beyond the bounds: one verdict
    naming no executor; otherwise each executor family beyond its bound is named. A family
    whose A/A spread is beyond SPREAD_LIMIT is not judged (``unjudged``)."""
    limit = SPREAD_LIMIT[metric]
    unjudged = sorted({f for f, s in spreads.families.get(metric, {}).items() if s > limit})
    found = [e for e in effects(a, b, metric,
                                lambda f: max(threshold, SPREAD_MARGIN * spreads.of(metric, f)))
             if e.family.name not in unjudged]
    by_name = {e.family.name: e for e in found}
    verdicts: list[CountVerdict] = []
    for kind, sign in ((REGRESSION, 1.0), (IMPROVEMENT, -1.0)):
        for workload in dict.fromkeys(e.family.workload for e in found):
            whole = by_name.get(workload)
            parts = [e for e in found if e.family.workload == workload and e.family.executor]
            typical = (statistics.median([e.change * sign for e in parts]) if parts
                       else (whole.change * sign if whole else 0.0))
            if whole is not None and typical > whole.bound:
                verdicts.append(CountVerdict(kind, workload, (), whole))
                continue
            for e in sorted(parts, key=lambda e: -abs(e.change)):
                if e.change * sign > e.bound:
                    verdicts.append(CountVerdict(kind, workload, (e.family.executor,), e))
    names = set(expected)
    for v in verdicts:
        v.expected = v.workload in names or v.family_name in names
    missing = sorted(set(a) ^ set(b))
    return CountResult(found, verdicts, len(set(a) & set(b)), threshold, spreads, missing,
                       unjudged)


def judge_both(a: Mapping[str, Mapping[str, float]], b: Mapping[str, Mapping[str, float]],
               spreads: Spreads = NO_SPREADS, expected: Iterable[str] = ()) -> CountResult:
    """Both counted metrics (``a[metric][row key]``: per task), one result: instructions'
    verdicts, then the system calls' (a family can have one of each)."""
    result = judge(a["instructions"], b["instructions"], COUNT_THRESHOLD, spreads, expected)
    calls = judge(a["syscalls"], b["syscalls"], SYSCALL_THRESHOLD, spreads, expected,
                  "syscalls")
    result.verdicts += calls.verdicts
    result.effects += calls.effects
    result.unjudged += [f"{f} (system calls)" for f in calls.unjudged]
    return result


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
    source = (f"the A/A spreads of {result.spreads.source} ({result.spreads.runs} runs)"
              if result.spreads.source else "no measured A/A spread")
    lines.append(lead + f"{result.rows} rows counted once a side; a verdict needs a change beyond "
                 f"{result.threshold * 100:g}% of instructions or {SYSCALL_THRESHOLD:g} system "
                 f"calls per task, and beyond {SPREAD_MARGIN:g}x its family's A/A spread "
                 f"({source}).")
    if result.unjudged:
        lines.append(lead + "left to the timing lens (A/A spread too large to judge): "
                     + ", ".join(result.unjudged))
    if result.missing:
        lines.append(lead + f"{len(result.missing)} rows counted on one side only (left out): "
                     + ", ".join(result.missing[:5]) + (" ..." if len(result.missing) > 5 else ""))
    return "\n".join(lines) + "\n"


def result_json(result: CountResult) -> dict:
    return {"verdicts": [{"kind": v.kind, "workload": v.workload, "executors": list(v.executors),
                          "change": v.effect.change, "expected": v.expected, "text": v.describe(),
                          "functions": [list(f) for f in v.functions]} for v in result.verdicts],
            "families": [{"family": e.family.name, "metric": e.metric, "change": e.change,
                          "bound": e.bound, "rows": e.rows} for e in result.effects],
            "threshold": result.threshold, "spreads": result.spreads.source,
            "unjudged": result.unjudged, "missing": result.missing}


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


def per_task_counts(doc: Mapping) -> dict[str, dict[str, float]]:
    """A counted run's counts per task, per metric and row key: every counted row's
    instructions, and the system calls of the rows of SYSCALL_MIN_TASKS tasks or more."""
    from .counted import instructions

    from .counted import COUNT_SKIP

    out = {m: {k: v[1] for k, v in instructions(doc, m).items() if not COUNT_SKIP.match(k)}
           for m in METRICS}
    tasks = {k: total / per_task for k, (total, per_task) in instructions(doc).items()
             if per_task > 0}
    out["syscalls"] = {k: v for k, v in out["syscalls"].items()
                       if tasks.get(k, 0) >= SYSCALL_MIN_TASKS}
    return out


def judge_docs(docs: Mapping[str, tuple[dict, Path]], expected: Iterable[str] = (),
               spreads: Spreads | None = None) -> CountResult:
    """The counted stage on two counted runs ({"A": (doc, dir), "B": ...}): verdicts, each
    with the functions that moved."""
    per_task = {side: per_task_counts(doc) for side, (doc, _) in docs.items()}
    a, b = per_task["A"]["instructions"], per_task["B"]["instructions"]
    kernels = {side: doc.get("context", {}).get("cbench_word_scan_kernel", "")
               for side, (doc, _) in docs.items()}
    result = judge_both(per_task["A"], per_task["B"],
                        read_spreads() if spreads is None else spreads, expected)
    if kernels["A"] != kernels["B"]:
        # Counts of different kernels are not one change: say so rather than compare them.
        result.missing.append(f"(word-scan kernels differ: A {kernels['A']}, B {kernels['B']})")
    name_functions(result, [docs["A"], docs["B"]], a, b)
    return result


def run_stage(binaries: Mapping[str, str | Path], out: Path, filter_regex: str,
              expected: Iterable[str] = (), log=lambda _: None, extra: Sequence[str] = ()
              ) -> CountResult:
    """One counted run a side (A, then B) under ``out``/A and ``out``/B, judged."""
    import json

    from .counted import run_count

    docs = {}
    for side in ("A", "B"):
        log(f"counted lens: {side} under callgrind ({binaries[side]})")
        path = run_count(binaries[side], out / side, filter_regex, extra)
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
