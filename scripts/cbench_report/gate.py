"""The regression gate: is B slower than A, where, and by how much, with a known false-alarm rate.

Measurements come in pairs (``pairs.py``): every block of benchmarks run by A and by B one after
the other, in a balanced random order. The method (docs/design.md, "The regression gate"):

1. **Families, not rows.** A row is noisy; a change of code moves many rows together. Each
   workload is a family (all its rows), and so is each workload × executor (the rows of one
   executor), so a change that slows a workload everywhere and one that slows one executor's
   dispatch are both seen. Per family and pair, the statistic is the median over the family's
   rows of ln(B / A): paired, so drift between pairs cancels, and a median, so one row that hit a
   slow second does not carry the family.
2. **A crossover analysis per family.** With A first in half the pairs and B first in the other
   half, the change is the mean of the two orders' means (a position effect cancels exactly) and
   its standard error comes from the spread within each order (Student's t, pairs − 2 degrees of
   freedom). Where a noise profile of this machine exists (``calibrate``), the spread used is the
   profile's (with its degrees of freedom) — in screening always, in confirmation unless today's
   is more than twice it — and the change must also exceed the profile's noise floor for the
   family (its 99% band of A/A changes at this many pairs).
3. **Control of the error rate across the grid.** The screening stage takes a family as a
   suspect when its Benjamini–Hochberg adjusted p is below ``SCREEN_Q`` and its change beyond
   the threshold and the noise floor; the confirmation stage runs only the suspects' blocks again
   (fresh pairs, a fresh order) and keeps a suspect when, on those pairs alone, its Holm-adjusted
   p is below alpha with a change of the same sign beyond the same bounds. A false alarm needs two
   independent flukes in the same family.
4. **Verdicts.** A confirmed slower family is a regression (exit 1), a confirmed faster one an
   improvement (reported, exit 0). Each names its workload and, when only some executors moved
   (the typical executor family of the workload did not), those executors.
"""
from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from .names import parse_name
from .pairs import Pair, block_of
from .stats import benjamini_hochberg, crossover_change, holm, t_two_sided_p

# The CI configuration: the quick preset's sizes at W = 1 and 2 (the cores of the CI machine;
# W = 4 oversubscribes two cores and adds noise without another code path), map mode, the
# as-completed path at W = 2, the dispatch and lifecycle overheads and two points of the
# granularity sweep. read's cold-cache rows, the cold (start-up) rows and the memory cases are
# left out: they time the page cache and process creation, or measure memory, not time.
GATE_SUBSET = ("executor:[^/]+/mode:map/"
               "|executor:[^/]+/mode:as-completed/workers:2(/|$)"
               "|executor:[^/]+/workers:[0-9]+(/min_time|/iterations|/process_time|$)"
               "|executor:[^/]+/workers:2/task_us:(10|1000)(/|$)")
GATE_BENCH_ARGS = ("--cbench_preset=quick", "--cbench_workers=1,2", "--benchmark_min_time=0.05")
# When the counted stage ran, the timing pairs keep of the workloads whose work it counts only
# what time alone shows: the reference and every executor at W = 2, map mode (scaling,
# contention). The waiting workloads (count, wordcount-http), the trivial map (double), the
# overheads and the granularity points keep their whole subset (docs/counted.md).
COUNTED_WORKLOADS = frozenset({"wordcount", "read", "pbkdf2", "eigen", "wordfreq", "stream"})
TRIMMED_SUBSET = "executor:sequential/mode:map/|executor:[^/]+/mode:map/workers:2(/|$)"


def block_subset(block: str, subset: str, counted: bool) -> str:
    """The subset of ``block`` the timing pairs run: trimmed for a counted workload when the
    counted stage ran and the gate runs its own subset."""
    if counted and subset == GATE_SUBSET and block in COUNTED_WORKLOADS:
        return TRIMMED_SUBSET
    return subset
SCREEN_PAIRS = 6
CONFIRM_PAIRS = 8
SCREEN_Q = 0.10
SCREEN_TRUST = math.inf  # screening always uses the calibrated spread when there is one
ALPHA = 0.05
THRESHOLD = 0.05
FLOOR_Z = 2.576  # the noise floor: a 99% two-sided band of the A/A change

REGRESSION, IMPROVEMENT = "regression", "improvement"


@dataclass(frozen=True)
class Family:
    """A set of rows judged together: a whole workload (``executor`` None) or one executor's
    rows of it."""

    name: str
    workload: str
    executor: str | None
    rows: tuple[str, ...]


@dataclass(frozen=True)
class NoiseProfile:
    """What ``calibrate`` learned about this machine: per family, the spread of the per-pair
    statistic in A/A pairs (``sigma``, natural log units) and the pairs it rests on."""

    machine_class: str
    pairs: int
    sigma: Mapping[str, float]
    source: str = ""

    @property
    def df(self) -> float:
        """Degrees of freedom of each family's spread: the crossover's pairs − 2."""
        return max(self.pairs - 2, 1)

    def floor(self, family: str, pairs: int) -> float:
        """The smallest change (a fraction) this family shows by chance in 1% of A/A gates."""
        sigma = self.sigma.get(family)
        if sigma is None or pairs < 1:
            return 0.0
        return math.expm1(FLOOR_Z * sigma / math.sqrt(pairs))


@dataclass(frozen=True)
class Effect:
    family: Family
    change: float  # exp(mean log ratio) - 1; > 0: B slower
    ci: tuple[float, float]
    p: float
    pairs: int
    floor: float
    adjusted_p: float = math.nan

    def beyond(self, threshold: float) -> bool:
        return abs(self.change) > max(threshold, self.floor)


@dataclass(frozen=True)
class Verdict:
    """A confirmed change: the family, its change over every pair, and what it names."""

    kind: str  # REGRESSION or IMPROVEMENT
    workload: str
    executors: tuple[str, ...]  # empty: every executor of the workload moved
    effect: Effect  # over the screening and confirmation pairs together
    confirmed_by: Effect  # the confirmation pairs alone

    def describe(self) -> str:
        who = ("every executor" if not self.executors
               else "executor " + ", ".join(self.executors))
        lo, hi = self.effect.ci
        return (f"{self.kind}: {self.workload} ({who}) {self.effect.change * 100:+.1f}% "
                f"(95% CI {lo * 100:+.1f}% to {hi * 100:+.1f}%, {self.effect.pairs} pairs; "
                f"confirmation p = {self.confirmed_by.adjusted_p:.2g})")


@dataclass
class GateResult:
    screen: list[Effect]
    suspects: list[Effect]
    confirm: list[Effect] = field(default_factory=list)
    verdicts: list[Verdict] = field(default_factory=list)
    rows: int = 0
    profile: NoiseProfile | None = None
    threshold: float = THRESHOLD
    alpha: float = ALPHA

    @property
    def regressions(self) -> list[Verdict]:
        return [v for v in self.verdicts if v.kind == REGRESSION]

    @property
    def improvements(self) -> list[Verdict]:
        return [v for v in self.verdicts if v.kind == IMPROVEMENT]


def families(keys: Iterable[str]) -> list[Family]:
    """Every workload and every workload × executor of these rows (an executor family equal to
    its whole workload is not repeated)."""
    by_workload: dict[str, list[str]] = {}
    by_executor: dict[tuple[str, str], list[str]] = {}
    for key in keys:
        name = parse_name(key)
        workload = block_of(name.key)
        by_workload.setdefault(workload, []).append(name.key)
        if name.executor:
            by_executor.setdefault((workload, name.executor), []).append(name.key)
    found = [Family(w, w, None, tuple(rows)) for w, rows in by_workload.items()]
    for (w, executor), rows in by_executor.items():
        if len(rows) < len(by_workload[w]):
            found.append(Family(f"{w}/{executor}", w, executor, tuple(rows)))
    return found


def family_statistics(rows: Mapping[str, Sequence[Pair]], family: Family) -> list[tuple[bool, float]]:
    """Per pair: (A first?, median over the family's rows of ln(B / A))."""
    per_pair: dict[int, tuple[bool, list[float]]] = {}
    for key in family.rows:
        for p in rows.get(key, ()):
            if p.a > 0 and p.b > 0:
                per_pair.setdefault(p.pair, (p.a_first, []))[1].append(math.log(p.b / p.a))
    return [(a_first, statistics.median(values)) for _, (a_first, values) in sorted(per_pair.items())]


def effect(rows: Mapping[str, Sequence[Pair]], family: Family,
           profile: NoiseProfile | None = None, trust: float | None = None) -> Effect | None:
    """The family's change with its interval and p-value; None with fewer than 3 pairs.
    ``trust``: how much larger than the profile's this run's spread may be before it is used
    instead (``stats.crossover_change``)."""
    stats = family_statistics(rows, family)
    if len(stats) < 3:
        return None
    prior = profile.sigma.get(family.name) if profile else None
    theta, se, df = crossover_change(stats, prior, profile.df if profile else math.inf, trust)
    p = t_two_sided_p(theta, se, df)
    half = _t_quantile(df) * se
    return Effect(family, math.expm1(theta), (math.expm1(theta - half), math.expm1(theta + half)),
                  p, len(stats), profile.floor(family.name, len(stats)) if profile else 0.0)


def effects(rows: Mapping[str, Sequence[Pair]], fams: Sequence[Family],
            profile: NoiseProfile | None = None, trust: float | None = None) -> list[Effect]:
    return [e for e in (effect(rows, f, profile, trust) for f in fams) if e is not None]


def screen(rows: Mapping[str, Sequence[Pair]], profile: NoiseProfile | None = None,
           threshold: float = THRESHOLD, q: float = SCREEN_Q) -> tuple[list[Effect], list[Effect]]:
    """Every family's effect (BH-adjusted p filled in) and the suspects among them. Screening
    judges by the machine's calibrated spread whatever this run's (a large change that varies
    from pair to pair, as a doubled dispatch cost does on a VM whose speed swings, must not hide
    behind its own spread); the confirmation, which decides, is the stricter one."""
    found = effects(rows, families(rows), profile, SCREEN_TRUST)
    adjusted = benjamini_hochberg([e.p for e in found])
    found = [replace(e, adjusted_p=a) for e, a in zip(found, adjusted)]
    return found, [e for e in found if e.adjusted_p < q and e.beyond(threshold)]


def confirm(rows: Mapping[str, Sequence[Pair]], suspects: Sequence[Effect],
            profile: NoiseProfile | None = None, threshold: float = THRESHOLD,
            alpha: float = ALPHA) -> list[Effect]:
    """The suspects measured again (``rows``: the confirmation pairs alone), Holm-adjusted;
    those that hold, in the same direction, beyond the same bounds."""
    again = effects(rows, [s.family for s in suspects], profile)
    adjusted = holm([e.p for e in again])
    again = [replace(e, adjusted_p=a) for e, a in zip(again, adjusted)]
    sign = {s.family.name: math.copysign(1, s.change) for s in suspects}
    return [e for e in again if e.adjusted_p < alpha and e.beyond(threshold)
            and math.copysign(1, e.change) == sign[e.family.name]]


def verdicts(confirmed: Sequence[Effect], overall: Mapping[str, Effect],
             threshold: float = THRESHOLD) -> list[Verdict]:
    """One verdict per workload and direction. The workload moved as a whole when its typical
    executor did (the median of its executor families' changes over every pair is beyond the
    threshold): one verdict naming no executor, whichever of its families were confirmed.
    Otherwise the executors that moved carried it, and each confirmed one is named."""
    out: list[Verdict] = []
    for kind, sign in ((REGRESSION, 1.0), (IMPROVEMENT, -1.0)):
        moved = [e for e in confirmed if math.copysign(1, e.change) == sign]
        for workload in dict.fromkeys(e.family.workload for e in moved):
            mine = [e for e in moved if e.family.workload == workload]
            parts = [f for f in overall.values()
                     if f.family.workload == workload and f.family.executor]
            typical = statistics.median([f.change * sign for f in parts]) if parts else math.inf
            whole = overall.get(workload)
            if typical > threshold and whole is not None:
                strongest = min(mine, key=lambda e: e.adjusted_p)
                out.append(Verdict(kind, workload, (), whole, strongest))
                continue
            executors = [e for e in mine if e.family.executor] or mine
            for e in sorted(executors, key=lambda e: -abs(e.change)):
                who = (e.family.executor,) if e.family.executor else tuple(sorted(
                    f.family.executor for f in parts if f.change * sign > threshold
                    and f.beyond(threshold)))
                out.append(Verdict(kind, workload, who, overall.get(e.family.name, e), e))
    return out


def decide(screen_rows: Mapping[str, Sequence[Pair]],
           confirm_rows: Mapping[str, Sequence[Pair]] | None,
           profile: NoiseProfile | None = None, threshold: float = THRESHOLD,
           alpha: float = ALPHA) -> GateResult:
    """The whole gate on measurements already taken: screening on ``screen_rows``, confirmation
    on ``confirm_rows`` (None: the suspects are not confirmed, so nothing is flagged)."""
    found, suspects = screen(screen_rows, profile, threshold)
    result = GateResult(found, suspects, rows=len(screen_rows), profile=profile,
                        threshold=threshold, alpha=alpha)
    if not suspects or confirm_rows is None:
        return result
    combined = combine(screen_rows, confirm_rows)
    overall = {e.family.name: e for e in effects(combined, families(combined), profile)}
    # Confirmed on the fresh pairs, and beyond the bounds over every pair too.
    result.confirm = [e for e in confirm(confirm_rows, suspects, profile, threshold, alpha)
                      if e.family.name in overall and overall[e.family.name].beyond(threshold)
                      and math.copysign(1, overall[e.family.name].change) == math.copysign(1, e.change)]
    result.verdicts = verdicts(result.confirm, overall, threshold)
    return result


def combine(first: Mapping[str, Sequence[Pair]], second: Mapping[str, Sequence[Pair]]
            ) -> dict[str, list[Pair]]:
    """Both stages' pairs, the second's renumbered after the first's."""
    offset = 1 + max((p.pair for ps in first.values() for p in ps), default=-1)
    out = {k: list(v) for k, v in first.items()}
    for key, ps in second.items():
        out.setdefault(key, []).extend(replace(p, pair=p.pair + offset) for p in ps)
    return out


def suspect_blocks(suspects: Sequence[Effect]) -> list[str]:
    return list(dict.fromkeys(s.family.workload for s in suspects))


def _t_quantile(df: float) -> float:
    from scipy import stats  # here: importing SciPy costs most of a second

    return float(stats.t.ppf(0.975, df)) if math.isfinite(df) else 1.959964


def format_result(result: GateResult, markdown: bool = False, most: int = 12) -> str:
    """The gate's report: the verdict first, then how it was reached and the largest changes."""
    from .text import markdown_table, percent, text_table

    regressions, improvements = result.regressions, result.improvements
    if regressions:
        title = f"{len(regressions)} regression(s)"
    else:
        title = "No regression" + (f"; {len(improvements)} improvement(s)" if improvements else "")
    lines = [f"### {':x:' if regressions else ':white_check_mark:'} {title}" if markdown
             else f"gate: {title.lower()}"]
    lines += [("- " if markdown else "  ") + v.describe() for v in result.verdicts]
    profile = result.profile
    method = [
        f"{result.rows} benchmarks in {len(result.screen)} families (each workload, and each "
        f"executor within it), screened on {result.screen[0].pairs if result.screen else 0} "
        f"pairs of runs (A and B back to back, in a balanced random order).",
        f"Suspects: Benjamini–Hochberg adjusted p < {SCREEN_Q:g} and a change beyond "
        f"{result.threshold * 100:g}% and the family's noise floor: "
        + (", ".join(f"{s.family.name} {s.change * 100:+.1f}%" for s in result.suspects)
           or "none") + ".",
    ]
    if result.suspects:
        method.append(
            f"Confirmation on fresh pairs of the suspects' blocks: Holm-adjusted p < "
            f"{result.alpha:g}, same direction, beyond the same bounds: "
            + (", ".join(f"{e.family.name} {e.change * 100:+.1f}%" for e in result.confirm)
               or "none held") + ".")
    method.append(f"Noise profile: {profile.source} (machine class {profile.machine_class}, "
                  f"{profile.pairs} A/A pairs)." if profile else
                  "Noise profile: none for this machine class; the threshold alone bounds the "
                  "change (scripts/report calibrate makes one).")
    lines += ["", *(("- " if markdown else "") + m for m in method)]
    largest = sorted(result.screen, key=lambda e: -abs(e.change))[:most]
    headers = ["family", "change", "95% CI", "floor", "p (BH)", "pairs"]
    rows = [[f"`{e.family.name}`" if markdown else e.family.name, percent(e.change, signed=True),
             f"{percent(e.ci[0], signed=True)} to {percent(e.ci[1], signed=True)}",
             percent(e.floor) if e.floor else "–", f"{e.adjusted_p:.2g}", str(e.pairs)]
            for e in largest]
    lines += ["", f"The {len(largest)} largest changes in screening:", ""]
    lines.append(markdown_table(headers, rows) if markdown else text_table(headers, rows))
    return "\n".join(lines) + "\n"


def result_json(result: GateResult) -> dict:
    def one(e: Effect) -> dict:
        return {"family": e.family.name, "change": e.change, "ci": list(e.ci), "p": e.p,
                "adjusted_p": e.adjusted_p, "pairs": e.pairs, "floor": e.floor}

    return {"verdicts": [{"kind": v.kind, "workload": v.workload, "executors": list(v.executors),
                          "text": v.describe(), **one(v.effect)} for v in result.verdicts],
            "suspects": [one(e) for e in result.suspects],
            "confirmed": [one(e) for e in result.confirm],
            "screen": [one(e) for e in result.screen],
            "profile": result.profile.source if result.profile else None,
            "threshold": result.threshold, "alpha": result.alpha}
