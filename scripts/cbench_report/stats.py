"""The statistics: medians, bootstrap confidence intervals, the Mann–Whitney U test.

Confidence intervals are 95% percentile bootstraps of the median over the repetitions (2,000
resamples, a fixed seed, so the same run always gives the same interval). The median rather
than the mean because benchmark times are skewed by the odd slow repetition; the bootstrap
rather than a t-interval because it needs no normality and handles ratios (speedup) directly.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

CI_LEVEL = 0.95
RESAMPLES = 2000
CI_METHOD = "95% percentile bootstrap of the median over repetitions (2,000 resamples)"


def bootstrap_median_ci(samples: Sequence[float], level: float = CI_LEVEL,
                        resamples: int = RESAMPLES, seed: int = 0) -> tuple[float, float]:
    """Interval for the median of ``samples``; a single sample gives a zero-width interval."""
    data = np.asarray(samples, dtype=float)
    if data.size < 2:
        value = float(data[0]) if data.size else math.nan
        return value, value
    medians = np.median(_resample(data, resamples, np.random.default_rng(seed)), axis=1)
    return _percentiles(medians, level)


def bootstrap_ratio_ci(numerator: Sequence[float], denominator: Sequence[float],
                       level: float = CI_LEVEL, resamples: int = RESAMPLES,
                       seed: int = 0) -> tuple[float, float]:
    """Interval for median(numerator) / median(denominator), both sides resampled apart (they
    are independent runs): the speedup's interval."""
    num, den = np.asarray(numerator, dtype=float), np.asarray(denominator, dtype=float)
    rng = np.random.default_rng(seed)
    num_medians = np.median(_resample(num, resamples, rng), axis=1)
    den_medians = np.median(_resample(den, resamples, rng), axis=1)
    return _percentiles(num_medians / den_medians, level)


def mann_whitney_p(a: Sequence[float], b: Sequence[float]) -> float:
    """Two-sided Mann–Whitney U p-value (exact for small samples without ties). Samples that are
    all equal carry no evidence of a difference: p = 1."""
    from scipy import stats  # here, not at the top: importing it costs most of a second

    if not a or not b:
        return math.nan
    p = float(stats.mannwhitneyu(a, b, alternative="two-sided").pvalue)
    return 1.0 if math.isnan(p) else p


def smallest_two_sided_p(n1: int, n2: int) -> float:
    """The smallest p a two-sided exact U test can give with n1 and n2 samples: the two most
    extreme orderings out of C(n1 + n2, n1). With 3 and 3 that is 2/20 = 0.1, so no difference,
    however large, is ever significant at 0.1; with 5 and 5 it is 2/252 = 0.008."""
    if n1 < 1 or n2 < 1:
        return 1.0
    return min(1.0, 2 / math.comb(n1 + n2, n1))


def _resample(data: np.ndarray, resamples: int, rng: np.random.Generator) -> np.ndarray:
    return data[rng.integers(0, data.size, size=(resamples, data.size))]


def _percentiles(values: np.ndarray, level: float) -> tuple[float, float]:
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return float(low), float(high)


def crossover_change(pairs: Sequence[tuple[bool, float]], prior_sigma: float | None = None,
                     prior_df: float = math.inf, trust: float | None = None
                     ) -> tuple[float, float, float]:
    """A two-period crossover estimate from per-pair differences ``(a_first, d)``, d = ln(B/A).

    The change is the mean of the A-first pairs' mean and the B-first pairs' mean, so an effect
    of running first or second cancels exactly when both orders are present; its standard error
    comes from the spread within each order (pairs − 2 degrees of freedom). With one order only,
    the plain mean and spread (pairs − 1). The differences are winsorized first (``winsorized``).
    ``prior_sigma`` is the machine's calibrated spread, from ``prior_df`` degrees of freedom (a
    pool of A/A pairs): a spread estimated from six pairs of heavy-tailed noise is itself very
    noisy, too small as often as much too large, so the calibrated one is used, with its degrees
    of freedom, unless this run's is more than ``trust`` (PRIOR_TRUST) times larger — a day
    clearly noisier than the calibration, which then speaks for itself. Returns (change, standard
    error, degrees of freedom)."""
    theta, sigma, weight, df = _crossover(pairs)
    if prior_sigma is not None and sigma <= (PRIOR_TRUST if trust is None else trust) * prior_sigma:
        sigma, df = prior_sigma, prior_df
    return theta, sigma * weight, float(df)


def crossover_spread(pairs: Sequence[tuple[bool, float]]) -> float:
    """The spread of the per-pair differences within their orders, as ``crossover_change`` sees
    it (what a noise profile keeps per family)."""
    return _crossover(pairs)[1]


def _crossover(pairs: Sequence[tuple[bool, float]]) -> tuple[float, float, float, int]:
    """(change, spread, weight, degrees of freedom): the standard error is spread × weight."""
    pairs = winsorized(pairs)
    first = [d for a_first, d in pairs if a_first]
    second = [d for a_first, d in pairs if not a_first]
    n = len(first) + len(second)
    if first and second and n >= 3:
        m1, m2 = sum(first) / len(first), sum(second) / len(second)
        ss = sum((d - m1) ** 2 for d in first) + sum((d - m2) ** 2 for d in second)
        df = n - 2
        return (m1 + m2) / 2, math.sqrt(ss / df), math.sqrt(1 / len(first) + 1 / len(second)) / 2, df
    values = first or second
    theta = sum(values) / n
    df = n - 1
    sigma = math.sqrt(sum((d - theta) ** 2 for d in values) / df) if df > 0 else math.inf
    return theta, sigma, 1 / math.sqrt(n), df


WINSOR_MADS = 2.5
PRIOR_TRUST = 2.0


def winsorized(pairs: Sequence[tuple[bool, float]]) -> list[tuple[bool, float]]:
    """The per-pair differences pulled in to WINSOR_MADS robust spreads of their order's
    median. On a VM the CPU's speed can swing by half between two runs seconds apart, so a pair
    now and then differs by 30% for nothing: clipped, it still counts against the change, but
    it cannot carry the mean nor blow up the spread. With fewer than 4 pairs, unchanged."""
    if len(pairs) < 4:
        return list(pairs)
    centre = {}
    for order in (True, False):
        values = [d for a_first, d in pairs if a_first == order]
        if values:
            centre[order] = _median(values)
    spread = 1.4826 * _median([abs(d - centre[a_first]) for a_first, d in pairs])
    if not spread > 0:
        return list(pairs)
    bound = WINSOR_MADS * spread
    return [(a_first, min(max(d, centre[a_first] - bound), centre[a_first] + bound))
            for a_first, d in pairs]


def _median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def t_two_sided_p(estimate: float, standard_error: float, df: float) -> float:
    """Two-sided p of Student's t for ``estimate`` / ``standard_error``; no spread at all gives
    p = 0 for a non-zero estimate and 1 for zero."""
    from scipy import stats

    if not standard_error > 0:
        return 1.0 if estimate == 0 or math.isnan(standard_error) else 0.0
    return float(2 * stats.t.sf(abs(estimate) / standard_error, df))


def benjamini_hochberg(p_values: Sequence[float]) -> list[float]:
    """Benjamini–Hochberg adjusted p-values (control of the false discovery rate), in order."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [1.0] * m
    running = 1.0
    for rank in range(m, 0, -1):
        i = order[rank - 1]
        running = min(running, p_values[i] * m / rank)
        adjusted[i] = min(1.0, running)
    return adjusted


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values (control of the family-wise error rate), in order."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [1.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, p_values[i] * (m - rank)))
        adjusted[i] = running
    return adjusted
