"""The regression gate: two runs, benchmark by benchmark.

Per benchmark present in both: the relative change of the median real time, and the two-sided
Mann–Whitney U p-value over the repetitions (no assumption of normal times). A change counts
only when it is both large (beyond the threshold) and unlikely to be noise (p < alpha): a
regression when slower, an improvement when faster, otherwise the same. With fewer than 5
repetitions on a side the test cannot reach a small p at all (``stats.smallest_two_sided_p``),
so those benchmarks are reported as "too few repetitions" instead of a verdict that could only
be "same".
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from .load import Run
from .stats import mann_whitney_p, smallest_two_sided_p
from .text import markdown_table, percent, seconds, text_table

MIN_REPETITIONS = 5
REGRESSION, IMPROVEMENT, SAME = "regression", "improvement", "same"
TOO_FEW, FAILED = "too few repetitions", "failed"


@dataclass(frozen=True)
class Comparison:
    key: str
    base_median: float | None
    new_median: float | None
    change: float | None  # (new - base) / base of the medians; > 0 is slower
    p_value: float | None
    base_repetitions: int
    new_repetitions: int
    verdict: str


@dataclass(frozen=True)
class CompareResult:
    comparisons: list[Comparison]
    only_in_base: list[str]
    only_in_new: list[str]
    threshold: float
    alpha: float

    @property
    def regressions(self) -> list[Comparison]:
        return [c for c in self.comparisons if c.verdict == REGRESSION]


def parse_threshold(text: str) -> float:
    """``5%`` or ``5`` -> 0.05: the threshold is always a percentage."""
    value = float(text.strip().rstrip("%"))
    if not 0 <= value < 1000:
        raise ValueError(f"threshold {text!r} is not a percentage from 0 up")
    return value / 100


def verdict(change: float, p_value: float, n_base: int, n_new: int,
            threshold: float, alpha: float) -> str:
    if min(n_base, n_new) < MIN_REPETITIONS:
        return TOO_FEW
    if p_value < alpha and change > threshold:
        return REGRESSION
    if p_value < alpha and change < -threshold:
        return IMPROVEMENT
    return SAME


def compare_runs(base: Run, new: Run, threshold: float = 0.05, alpha: float = 0.05) -> CompareResult:
    """Compares every benchmark the two runs share; lists those only one of them has."""
    comparisons = []
    for key, b in base.benchmarks.items():
        n = new.benchmarks.get(key)
        if n is None:
            continue
        if not b.real_times or not n.real_times:
            comparisons.append(Comparison(key, b.median, n.median, None, None, b.repetitions,
                                          n.repetitions, FAILED))
            continue
        change = (n.median - b.median) / b.median
        p = mann_whitney_p(b.real_times, n.real_times)
        comparisons.append(Comparison(key, b.median, n.median, change, p, b.repetitions,
                                      n.repetitions, verdict(change, p, b.repetitions,
                                                             n.repetitions, threshold, alpha)))
    return CompareResult(
        comparisons,
        only_in_base=[k for k in base.benchmarks if k not in new.benchmarks],
        only_in_new=[k for k in new.benchmarks if k not in base.benchmarks],
        threshold=threshold, alpha=alpha)


def notes(result: CompareResult) -> list[str]:
    """The sentences that explain the table: the rule, too few repetitions, one-sided names."""
    lines = [f"Verdict: regression/improvement when the median changes by more than "
             f"{result.threshold * 100:g}% and the two-sided Mann–Whitney U p < {result.alpha:g}."]
    few = [c for c in result.comparisons if c.verdict == TOO_FEW]
    if few:
        n1 = min(c.base_repetitions for c in few)
        n2 = min(c.new_repetitions for c in few)
        lines.append(
            f"{len(few)} benchmark(s) have fewer than {MIN_REPETITIONS} repetitions on a side, so no "
            f"verdict: with so few a two-sided Mann–Whitney U test cannot reach small p-values "
            f"(with 3 and 3 it can never give p < 0.1; with {n1} and {n2}, never below "
            f"{smallest_two_sided_p(n1, n2):.3g}). Run with --benchmark_repetitions="
            f"{MIN_REPETITIONS} or more.")
    failed = [c for c in result.comparisons if c.verdict == FAILED]
    if failed:
        lines.append(f"{len(failed)} benchmark(s) have no successful repetition on a side.")
    if result.only_in_base:
        lines.append(f"Only in the baseline ({len(result.only_in_base)}): "
                     + ", ".join(result.only_in_base))
    if result.only_in_new:
        lines.append(f"Only in the new run ({len(result.only_in_new)}): "
                     + ", ".join(result.only_in_new))
    regressions = result.regressions
    lines.append(f"{len(regressions)} regression(s) in {len(result.comparisons)} benchmark(s)."
                 if regressions else f"No regression in {len(result.comparisons)} benchmark(s).")
    return lines


def _cells(c: Comparison) -> list[str]:
    p = "–" if c.p_value is None or math.isnan(c.p_value) else f"{c.p_value:.3g}"
    return [c.key, seconds(c.base_median), seconds(c.new_median), percent(c.change, signed=True),
            p, f"{c.base_repetitions}/{c.new_repetitions}", c.verdict]


HEADERS = ["benchmark", "baseline", "new", "change", "p", "reps", "verdict"]


def format_text(result: CompareResult) -> str:
    return text_table(HEADERS, [_cells(c) for c in result.comparisons]) + "\n\n" + "\n".join(notes(result))


def format_markdown(result: CompareResult) -> str:
    regressions = result.regressions
    title = (f"### :x: {len(regressions)} benchmark regression(s)" if regressions
             else "### :white_check_mark: No benchmark regression")
    rows = [[f"`{cells[0]}`", *cells[1:-1], f"**{cells[-1]}**" if c.verdict == REGRESSION
             else cells[-1]] for c, cells in ((c, _cells(c)) for c in result.comparisons)]
    return "\n\n".join([title, markdown_table(HEADERS, rows),
                        "\n".join(f"- {line}" for line in notes(result))]) + "\n"
