"""The gate's own measurement: how often it fails an innocent change, how often it catches a real
one, on this machine.

``calibrate`` runs one binary against itself (A/A: every difference is noise) for a pool of
pairs, then replays the whole gate — screening on ``SCREEN_PAIRS`` pairs drawn from the pool,
confirmation on ``CONFIRM_PAIRS`` others — in many trials:

- A/A trials as measured: any regression is a false alarm;
- injected trials: B's times of one workload multiplied by 1.05, 1.10 or 2 (every experiment
  workload in turn), and one executor's ``overhead:dispatch`` rows doubled (each executor in
  turn): detected when a regression verdict names that workload (and that executor).

The trials resample one pool, so they are not independent runs of the gate: the rates rest on
the pool's pairs, which the output states. The pool also gives the noise profile (per family,
the spread of the per-pair statistic) that the gate reads on a machine of the same class; the
trials that use it are in-sample, so the rates are given with and without it.
"""
from __future__ import annotations

import json
import os
import platform
import random
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from . import gate
from . import registry
from .load import UnusableInput
from .names import parse_name
from .pairs import Pair, block_of
from .stats import crossover_spread
from .text import text_table
from .files import make_folder, write_text

INJECTED_SIZES = (0.05, 0.10, 1.0)
PROFILE_GLOB = "gate-profile-*.json"


def machine_class() -> str:
    """What makes two machines' noise comparable: architecture, CPU count and CPU model."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1]
                break
    except OSError:
        pass
    slug = re.sub(r"[^a-z0-9]+", "-", model.lower()).strip("-") or "unknown-cpu"
    return f"{platform.machine() or 'unknown'}-{os.cpu_count() or 0}cpu-{slug}"


def learn_profile(rows: Mapping[str, Sequence[Pair]], source: str = "") -> gate.NoiseProfile:
    """Per family, the within-order spread of the per-pair statistic over the A/A pool."""
    sigma: dict[str, float] = {}
    pairs = 0
    for family in gate.families(rows):
        stats = gate.family_statistics(rows, family)
        if len(stats) < 4:
            continue
        sigma[family.name] = crossover_spread(stats)
        pairs = max(pairs, len(stats))
    return gate.NoiseProfile(machine_class(), pairs, sigma, source)


def save_profile(profile: gate.NoiseProfile, path: Path, context: Mapping[str, Any],
                 rates: Mapping[str, Any]) -> Path:
    doc = {"machine_class": profile.machine_class,
           "created": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
           "machine": {k: context.get(k) for k in ("host_name", "num_cpus", "mhz_per_cpu",
                                                  "cbench_commit", "cbench_compiler",
                                                  "cbench_preset", "cbench_corpus")},
           "pairs": profile.pairs,
           "gate": {"screen_pairs": gate.SCREEN_PAIRS, "confirm_pairs": gate.CONFIRM_PAIRS,
                    "threshold": gate.THRESHOLD, "alpha": gate.ALPHA,
                    "bench_args": list(gate.GATE_BENCH_ARGS), "subset": gate.GATE_SUBSET},
           "rates": rates,
           "sigma": dict(sorted(profile.sigma.items()))}
    make_folder(path.parent)
    write_text(path, json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    return path


def read_profile(path: Path) -> gate.NoiseProfile:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        sigma = {str(k): float(v) for k, v in doc["sigma"].items()}
        return gate.NoiseProfile(str(doc["machine_class"]), int(doc["pairs"]), sigma, str(path))
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise UnusableInput(f"{path}: not a gate noise profile ({error})") from None


def find_profile(directory: Path, wanted: str | None = None) -> gate.NoiseProfile | None:
    """The profile in ``directory`` for this machine's class, if one was committed."""
    wanted = wanted or machine_class()
    for path in sorted(directory.glob(PROFILE_GLOB)):
        profile = read_profile(path)
        if profile.machine_class == wanted:
            return profile
    return None


def inject(rows: Mapping[str, Sequence[Pair]], factor: float,
           selects: Callable[[str], bool]) -> dict[str, list[Pair]]:
    """B's times multiplied by ``factor`` in the rows ``selects`` keeps."""
    return {k: [replace(p, b=p.b * factor) for p in ps] if selects(k) else list(ps)
            for k, ps in rows.items()}


def subset(rows: Mapping[str, Sequence[Pair]], chosen: Sequence[int]) -> dict[str, list[Pair]]:
    """The pairs ``chosen`` of the pool, renumbered 0, 1, ..."""
    index = {pair: i for i, pair in enumerate(chosen)}
    return {k: [replace(p, pair=index[p.pair]) for p in ps if p.pair in index]
            for k, ps in rows.items()}


@dataclass(frozen=True)
class Trial:
    """One replayed gate: what was injected where, and whether the verdict named it."""

    kind: str  # "A/A", "+5%", "+10%", "2x", "2x dispatch"
    target: str  # the workload (or executor) injected; "" for A/A
    failed: bool  # the gate would fail the job
    named: bool  # a regression verdict names the target
    others: tuple[str, ...]  # regression verdicts that name something else


def run_trials(pool: Mapping[str, Sequence[Pair]], trials: int, seed: int,
               profile: gate.NoiseProfile | None, screen_pairs: int = gate.SCREEN_PAIRS,
               confirm_pairs: int = gate.CONFIRM_PAIRS) -> list[Trial]:
    pair_ids = sorted({p.pair for ps in pool.values() for p in ps})
    if len(pair_ids) < screen_pairs + confirm_pairs:
        raise UnusableInput(f"the pool has {len(pair_ids)} pairs; a trial needs "
                            f"{screen_pairs} + {confirm_pairs}")
    rng = random.Random(seed)
    workloads = [w for w in dict.fromkeys(block_of(k) for k in pool) if _is_experiment(pool, w)]
    # The executors (those the experiments run), not the references beside them (sequential,
    # the bare Asio floor).
    executors = {parse_name(k).executor for k in pool if parse_name(k).is_experiment}
    dispatch = sorted({parse_name(k).executor for k in pool if block_of(k) == "overhead:dispatch"}
                      & (executors - {registry.current().reference()}))
    plans: list[tuple[str, str, float, Callable[[str], bool]]] = []
    plans += [("A/A", "", 1.0, lambda _: False)] * trials
    for size in INJECTED_SIZES if workloads else ():
        label = f"+{size * 100:.0f}%" if size < 1 else f"{1 + size:g}x"
        for i in range(trials):
            w = workloads[i % len(workloads)]
            plans.append((label, w, 1 + size, lambda k, w=w: block_of(k) == w))
    for i in range(trials if dispatch else 0):  # a grid without the dispatch cases has none
        e = dispatch[i % len(dispatch)]
        plans.append(("2x dispatch", e, 2.0,
                      lambda k, e=e: block_of(k) == "overhead:dispatch" and parse_name(k).executor == e))
    out = []
    for kind, target, factor, selects in plans:
        chosen = rng.sample(pair_ids, screen_pairs + confirm_pairs)
        first = inject(subset(pool, chosen[:screen_pairs]), factor, selects)
        second = inject(subset(pool, chosen[screen_pairs:]), factor, selects)
        result = gate.decide(first, second, profile)
        names = [(v.workload, v.executors) for v in result.regressions]
        if kind == "2x dispatch":
            named = any(w == "overhead:dispatch" and (target in ex) for w, ex in names)
            others = tuple(f"{w}/{','.join(ex) or '*'}" for w, ex in names
                           if not (w == "overhead:dispatch" and target in ex))
        else:
            named = any(w == target for w, _ in names) if target else False
            others = tuple(f"{w}/{','.join(ex) or '*'}" for w, ex in names if w != target)
        out.append(Trial(kind, target, bool(result.regressions), named, others))
    return out


def rates(trials: Sequence[Trial]) -> dict[str, dict[str, Any]]:
    """Per kind of trial: how many, how many failed the job, how many named the target."""
    table: dict[str, dict[str, Any]] = {}
    for t in trials:
        row = table.setdefault(t.kind, {"trials": 0, "failed": 0, "named": 0, "named_other": 0,
                                        "by_target": {}})
        row["trials"] += 1
        row["failed"] += t.failed
        row["named"] += t.named
        row["named_other"] += bool(t.others)
        if t.target:
            target = row["by_target"].setdefault(t.target, {"trials": 0, "named": 0})
            target["trials"] += 1
            target["named"] += t.named
    return table


def format_rates(with_profile: Mapping[str, Mapping[str, Any]],
                 without: Mapping[str, Mapping[str, Any]], pool_pairs: int) -> str:
    rows = []
    for kind, row in with_profile.items():
        bare = without.get(kind, {})
        if kind == "A/A":
            cells = [f"{row['failed']} of {row['trials']} failed (false alarm)",
                     f"{bare.get('failed', '–')} of {bare.get('trials', '–')}"]
        else:
            cells = [f"{row['named']} of {row['trials']} named ({row['named_other']} also named "
                     f"another)", f"{bare.get('named', '–')} of {bare.get('trials', '–')}"]
        rows.append([kind, *cells])
    targets = [[kind, ", ".join(f"{t} {v['named']}/{v['trials']}" for t, v in row["by_target"].items())]
               for kind, row in with_profile.items() if row["by_target"]]
    return (text_table(["trial", "with this machine's noise profile", "without a profile"], rows)
            + "\n\nNamed, per target (with the profile):\n" + text_table(["trial", "target named/trials"], targets)
            + f"\n\nEach trial replays the gate ({gate.SCREEN_PAIRS} screening + "
              f"{gate.CONFIRM_PAIRS} confirmation pairs) on pairs drawn from one A/A pool of "
              f"{pool_pairs} pairs; injected trials multiply B's times of one workload (or one "
              f"executor's dispatch rows) by the factor.")


def _is_experiment(pool: Mapping[str, Sequence[Pair]], workload: str) -> bool:
    return any(parse_name(k).is_experiment for k in pool if block_of(k) == workload)
