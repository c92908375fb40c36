"""Synthetic Google Benchmark runs that follow docs/results-format.md exactly: the rows Google
Benchmark writes (iteration rows, then the mean/median/stddev/cv aggregates), our names with its
``/process_time/real_time`` suffix, our counters and context. Seeded, so the fixtures under
fixtures/ can be rebuilt byte for byte: ``python3 tests/scripts/synth.py`` rewrites them (and
test_fixtures checks they are what it would write)."""
from __future__ import annotations

import json
import math
import random
import statistics
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SUFFIX = "/process_time/real_time"
PER_SECOND = {"ns": 1e9, "us": 1e6, "ms": 1e3, "s": 1.0}
BOOKS = ("Gulliver", "Alice in Wonderland", "Pride and prejudice", "Yellow wallpaper",
         "Metamorphosis", "A Tale of Two Cities", "The Importance of Being Earnest", "Frankenstein")
# Sequential seconds per task, in book order: unequal, as real books are.
TASKS = {
    "pbkdf2": ("cpu", (0.080, 0.060, 0.050, 0.040, 0.030, 0.020, 0.015, 0.010)),
    "wordcount-http": ("waiting", (0.30, 0.25, 0.20, 0.20, 0.15, 0.10, 0.10, 0.05)),
}


def context(cores: int = 2, tasks: dict[str, tuple[str, Sequence[float]]] | None = None,
            **overrides: str) -> dict[str, Any]:
    """Google Benchmark's own context fields, then ours (strings, as the contract says)."""
    ctx: dict[str, Any] = {
        "date": "2026-11-20T10:00:00+00:00", "host_name": "testbox", "executable": "cbench_bench",
        "num_cpus": cores, "mhz_per_cpu": 2000, "cpu_scaling_enabled": False, "caches": [],
        "load_avg": [0.1, 0.1, 0.1], "library_build_type": "release",
        "cbench_version": "0.1.0", "cbench_commit": "0123456789ab", "cbench_compiler": "GNU 12.2.0",
        "cbench_flags": "-O3 -DNDEBUG", "cbench_native": "false", "cbench_word_scan_kernel": "scalar",
        "cbench_preset": "standard", "cbench_corpus": "generated", "cbench_corpus_checksum": "5a0c9e2b3a71",
        "cbench_http_profile": "quick", "cbench_cores": str(cores), "cbench_smt": "off (one thread per core)",
        "cbench_loadavg_before": "0.100000", "cbench_loaded": "false",
        "cbench_versions": "Google Benchmark 1.7.1, oneTBB 2021.8.0, OpenSSL 3.0.15, libcurl 7.88.1, "
                           "Eigen 3.4.0, Asio 1.28.0",
    }
    for workload, (kind, seconds) in (TASKS if tasks is None else tasks).items():
        ctx[f"cbench_work_kind/{workload}"] = kind
        ctx[f"cbench_task_seconds/{workload}"] = ",".join(f"{s:g}" for s in seconds)
    ctx.update(overrides)
    return ctx


def rows(name: str, seconds: Sequence[float], counters: dict[str, float] | None = None,
         unit: str = "ms", family: int = 0, instance: int = 0,
         aggregates: bool = True) -> list[dict[str, Any]]:
    """The rows of one benchmark: one per repetition, then Google Benchmark's aggregates."""
    counters = counters or {}
    n = len(seconds)

    def row(real: float, extra: dict[str, Any]) -> dict[str, Any]:
        return {"name": full, "family_index": family, "per_family_instance_index": instance,
                "run_name": full, **extra, "threads": 1, "iterations": 3,
                "real_time": _digits(real * PER_SECOND[unit]), "cpu_time": _digits(real * PER_SECOND[unit] / 2),
                "time_unit": unit, **counters}

    full = name + SUFFIX
    out = [row(s, {"run_type": "iteration", "repetitions": n, "repetition_index": i})
           for i, s in enumerate(seconds)]
    if aggregates and n > 1:
        mean, stdev = statistics.fmean(seconds), statistics.stdev(seconds)
        for aggregate, value, unit_kind in (("mean", mean, "time"), ("median", statistics.median(seconds), "time"),
                                            ("stddev", stdev, "time"), ("cv", stdev / mean, "percentage")):
            r = row(value, {"run_type": "aggregate", "repetitions": n, "aggregate_name": aggregate,
                            "aggregate_unit": unit_kind})
            r["name"] = full + "_" + aggregate
            if unit_kind == "percentage":
                r["real_time"], r["cpu_time"] = _digits(value), _digits(value)
            out.append(r)
    return out


def _digits(value: float) -> float:
    """Ten significant digits: exact enough for the hand-computed tests, shorter than 17."""
    return float(f"{value:.10g}")


def lpt(seconds: Sequence[float], slots: int) -> list[tuple[int, float, float, int]]:
    """The greedy schedule: (task index, start, end, slot) per task."""
    loads = [0.0] * slots
    schedule = []
    for i in sorted(range(len(seconds)), key=lambda i: -seconds[i]):
        slot = min(range(slots), key=lambda s: (loads[s], s))
        schedule.append((i, loads[slot], loads[slot] + seconds[i], slot))
        loads[slot] += seconds[i]
    return schedule


class Builder:
    """Collects benchmarks in order, numbering their families as Google Benchmark does."""

    def __init__(self, seed: int, noise: float, repetitions: int, scale: float = 1.0):
        self.rng = random.Random(seed)
        self.noise, self.repetitions, self.scale = noise, repetitions, scale
        self.benchmarks: list[dict[str, Any]] = []
        self.families: dict[str, int] = {}

    def add(self, name: str, seconds: float, counters: dict[str, float], unit: str = "ms") -> None:
        family = name.rsplit("/", 1)[0]
        index = self.families.setdefault(family, len(self.families))
        times = [seconds * self.scale * (1 + self.noise * self.rng.gauss(0, 1))
                 for _ in range(self.repetitions)]
        instance = sum(1 for b in self.benchmarks if b["family_index"] == index
                       and b["run_type"] == "iteration" and b["repetition_index"] == 0)
        self.benchmarks += rows(name, [round(t, 9) for t in times], counters, unit, index, instance)


EFFICIENCY = {("thread", "map"): 0.95, ("pool", "map"): 0.9, ("pool", "as-completed"): 0.88,
              ("pool", "cold"): 0.7, ("coro", "map"): 0.85}


def experiment_time(workload: str, executor: str, mode: str, workers: int, cores: int) -> float:
    kind, seconds = TASKS[workload]
    if executor == "sequential":
        return sum(seconds) * 1.01
    slots = workers if kind == "waiting" else min(workers, cores)
    makespan = max(end for _, _, end, _ in lpt(seconds, slots))
    return makespan / EFFICIENCY[(executor, mode)]


def synthetic_run(seed: int, repetitions: int = 3, noise: float = 0.01, scale: float = 1.0,
                  workers: Sequence[int] = (1, 2, 4), cores: int = 2, everything: bool = True,
                  ) -> dict[str, Any]:
    """A whole run: experiments (with a Python peer), overheads and granularity when
    ``everything``, else the pbkdf2 experiment only. Times = ideal / a fixed efficiency per
    executor, times ``scale``, with Gaussian noise of relative size ``noise``."""
    b = Builder(seed, noise, repetitions, scale)
    for workload in (TASKS if everything else ["pbkdf2"]):
        kind, seconds = TASKS[workload]
        series = [("sequential", "map", [1])] + [(e, m, list(workers)) for e, m in EFFICIENCY]
        for executor, mode, grid in series:
            for w in grid:
                t = experiment_time(workload, executor, mode, w, cores)
                busy = sum(seconds) / (t * cores) if kind == "cpu" else 0.02
                counters = {"cores": cores, "cpu_utilization": round(min(busy, 1.0), 4),
                            "steal_fraction": 0.0, "tasks_per_second": round(len(seconds) / t, 3),
                            "worker_cpu_seconds": 0.0, "workers": w}
                b.add(f"{workload}/executor:{executor}/mode:{mode}/workers:{w}", t, counters)
        if everything and workload == "pbkdf2":  # the Python peer: three times slower, same shape
            b.add(f"{workload}/lang:python/executor:sequential/mode:map/workers:1",
                  3 * experiment_time(workload, "sequential", "map", 1, cores), {"cores": cores, "workers": 1})
            for w in workers:
                b.add(f"{workload}/lang:python/executor:pool/mode:map/workers:{w}",
                      3 * experiment_time(workload, "pool", "map", w, cores) / 0.9, {"cores": cores, "workers": w})
    if not everything:
        return {"context": context(cores, {"pbkdf2": TASKS["pbkdf2"]}), "benchmarks": b.benchmarks}
    ns_per_task = {"sequential": 4.0, "thread": 25_000.0, "pool": 400.0, "coro": 180.0}
    for executor, ns in ns_per_task.items():
        for w in ([1] if executor == "sequential" else workers):
            value = ns * (1 + 0.25 * math.log2(w))
            b.add(f"overhead:dispatch/executor:{executor}/workers:{w}", value * 1e4 * 1e-9,
                  {"ns_per_task": value, "workers": w}, unit="us")
    b.add("overhead:dispatch/executor:asio-co_spawn/workers:1", 120e-9 * 1e4,
          {"ns_per_task": 120.0, "workers": 1}, unit="us")
    for executor, base in (("thread", 0.0), ("pool", 40e-6), ("coro", 15e-6)):
        for w in workers:
            b.add(f"overhead:lifecycle/executor:{executor}/workers:{w}", base + 20e-6 * w,
                  {"workers": w}, unit="us")
    for executor, per_task in (("thread", 12_288.0), ("pool", 9_000.0), ("coro", 600.0)):
        for n in (10, 100, 1000):
            b.add(f"overhead:memory/executor:{executor}/tasks:{n}", 1e-3 * n / 100,
                  {"pss_bytes_per_task": per_task * (1 + 5 / n), "tasks": n}, unit="us")
    overhead = {"sequential": 0.05e-6, "pool": 20e-6, "thread": 400e-6}
    for executor, cost in overhead.items():
        for w in ([1] if executor == "sequential" else [w for w in workers if w > 1][:1]):
            for task_us in (1, 10, 100, 1000, 10000):
                s = task_us * 1e-6
                efficiency = s / (s + cost)
                tasks = 64 * w
                b.add(f"granularity/executor:{executor}/workers:{w}/task_us:{task_us}",
                      tasks * s / min(w, cores) / efficiency,
                      {"cores": cores, "task_seconds": s, "tasks": tasks, "workers": w})
    # Last, so that the noise drawn for every row before stays what it was.
    for executor, us in (("pool", 30.0), ("coro", 15.0)):
        for w in workers:
            b.add(f"overhead:wake/executor:{executor}/workers:{w}", us * w * 1e-6,
                  {"us_per_run": us * w, "workers": w}, unit="us")
    native_ns = {"sequential": 1.0, "pool": 100.0, "coro": 120.0}  # the runtimes alone
    for executor, ns in native_ns.items():
        for w in ([1] if executor == "sequential" else workers):
            b.add(f"overhead:native/executor:{executor}/workers:{w}", ns * 1e4 * 1e-9,
                  {"ns_per_task": ns, "workers": w}, unit="us")
    return {"context": context(cores), "benchmarks": b.benchmarks}


def synthetic_trace(cores: int = 2, workers: Sequence[int] = (1, 2, 4)) -> list[dict[str, Any]]:
    """results.trace.json for ``synthetic_run``: the greedy schedule of each map case."""
    cases = []
    for workload, (kind, seconds) in TASKS.items():
        for executor, mode in [("sequential", "map")] + [k for k in EFFICIENCY if k[1] == "map"]:
            for w in ([1] if executor == "sequential" else workers):
                slow = 1.0 if executor == "sequential" else 1 / EFFICIENCY[(executor, mode)]
                schedule = lpt([s * slow for s in seconds], w)
                cases.append({"name": f"{workload}/executor:{executor}/mode:{mode}/workers:{w}",
                              "tasks": [{"task": BOOKS[i], "worker": slot, "start": round(start, 6),
                                         "end": round(end, 6)} for i, start, end, slot in schedule]})
    return cases


def hand_run() -> dict[str, Any]:
    """The hand-computed example (test_scaling, test_metg): 2 cores, six unequal tasks of
    4, 3, 3, 2, 2, 2 s (16 s in all) for a CPU workload and a waiting one; three repetitions of
    each row whose median is the round number in the name's comment."""
    tasks = (4.0, 3.0, 3.0, 2.0, 2.0, 2.0)
    benchmarks: list[dict[str, Any]] = []
    spec: list[tuple[str, float, str, dict[str, float]]] = [
        ("pbkdf2/executor:sequential/mode:map/workers:1", 16.0, "ms", {}),  # written in ms
        ("pbkdf2/executor:pool/mode:map/workers:2", 10.0, "s", {}),
        ("pbkdf2/executor:pool/mode:map/workers:4", 10.0, "s", {}),  # W > cores: still 2 slots
        ("pbkdf2/executor:thread/mode:map/workers:3", 12.0, "s", {}),
        ("wordcount-http/executor:sequential/mode:map/workers:1", 16.0, "s", {}),
        ("wordcount-http/executor:coro/mode:map/workers:4", 6.25, "us", {}),
        ("wordcount-http/executor:coro/mode:map/workers:8", 5.0, "ns", {}),
    ]
    # Granularity: W = 2 on 2 cores, 128 tasks; efficiency e at size s needs
    # real_time = 128 s / 2 / e.
    curves = {"pool": (0.1, 0.3, 0.7, 0.9), "thread": (0.1, 0.2, 0.3, 0.4), "tbb": (0.6, 0.8, 0.9, 0.95)}
    for executor, efficiencies in curves.items():
        for task_us, e in zip((1, 10, 100, 1000), efficiencies):
            s = task_us * 1e-6
            spec.append((f"granularity/executor:{executor}/workers:2/task_us:{task_us}",
                         128 * s / 2 / e, "ms", {"task_seconds": s, "tasks": 128, "workers": 2, "cores": 2}))
    for family, (name, median, unit, counters) in enumerate(spec):
        benchmarks += rows(name, [median * 0.99, median, median * 1.02], counters, unit, family)
    return {"context": context(2, {"pbkdf2": ("cpu", tasks), "wordcount-http": ("waiting", tasks)}),
            "benchmarks": benchmarks}


def slowed(doc: dict[str, Any], factor: float, match: Callable[[str], bool] = lambda _: True) -> dict[str, Any]:
    """``doc`` with every repetition (and aggregate time) of the matching rows ``factor`` slower."""
    out = json.loads(json.dumps(doc))
    for row in out["benchmarks"]:
        if match(row["name"]) and row.get("aggregate_unit") != "percentage":
            row["real_time"] *= factor
            row["cpu_time"] *= factor
    return out


GATE_WORKLOADS = ("count", "wordcount", "wordcount-http", "read", "pbkdf2", "eigen", "double",
                  "wordfreq", "granularity", "overhead:dispatch")
GATE_EXECUTORS = ("thread", "pool", "tbb", "coro", "fork")


def gate_keys(rows: int = 400) -> list[str]:
    """``rows`` benchmark keys spread over the workloads and executors of the gate's grid."""
    keys: list[str] = []
    i = 0
    while len(keys) < rows:
        workload = GATE_WORKLOADS[i % len(GATE_WORKLOADS)]
        n = i // len(GATE_WORKLOADS)
        executor = GATE_EXECUTORS[n % len(GATE_EXECUTORS)]
        keys.append(f"{workload}/executor:{executor}/mode:map/workers:{1 + n // len(GATE_EXECUTORS)}")
        i += 1
    return keys


def gate_pairs(seed: int, keys: Sequence[str], pairs: int, *, row_noise: float = 0.04,
               run_noise: float = 0.02, outliers: float = 0.03, bursts: float = 0.1,
               position: float = 0.0,
               a_first: Sequence[bool] | None = None,
               slower: Callable[[str], float] = lambda _: 1.0) -> dict[str, list[tuple]]:
    """Pairs as the gate measures them: ``{key: [(pair, a_first, a, b), ...]}``. Each run of a
    block (a pair, a side) shares a shock of ``run_noise`` and, with probability ``bursts``, a
    slow phase of the machine that makes the whole run 10-40% slower (as this project's VM does
    when a neighbour is busy); each row adds its own ``row_noise``
    and, with probability ``outliers``, a slow second of 10-30%; the second run of a pair is
    ``position`` slower; B's times are ``slower(key)`` times A's. The order of each block's
    pairs is balanced and shuffled unless ``a_first`` is given."""
    rng = random.Random(seed)
    blocks = list(dict.fromkeys(k.split("/", 1)[0] for k in keys))
    orders = {}
    for block in blocks:
        order = ([a_first[i % len(a_first)] for i in range(pairs)] if a_first is not None
                 else [i < pairs // 2 for i in range(pairs)])
        if a_first is None:
            rng.shuffle(order)
        orders[block] = order
    base = {k: 1e-3 * (1 + (zlib_hash(k) % 1000)) for k in keys}
    shocks = {(i, b, s): rng.gauss(0, run_noise)
              + (math.log(1 + rng.uniform(0.1, 0.4)) if rng.random() < bursts else 0.0)
              for i in range(pairs) for b in blocks for s in "AB"}
    out: dict[str, list[tuple]] = {}
    for key in keys:
        block = key.split("/", 1)[0]
        for i in range(pairs):
            first = orders[block][i]
            times = {}
            for side in "AB":
                noise = shocks[(i, block, side)] + rng.gauss(0, row_noise)
                if rng.random() < outliers:
                    noise += math.log(1 + rng.uniform(0.1, 0.3))
                second = (side == "B") == first
                factor = (slower(key) if side == "B" else 1.0) * (1 + position * second)
                times[side] = base[key] * factor * math.exp(noise)
            out.setdefault(key, []).append((i, first, times["A"], times["B"]))
    return out


def zlib_hash(text: str) -> int:
    import zlib

    return zlib.crc32(text.encode())


def dumps(doc: Any) -> str:
    """Google Benchmark's layout, but one row per line: small files, readable diffs."""
    if isinstance(doc, dict) and "benchmarks" in doc:
        body = ",\n    ".join(json.dumps(r) for r in doc["benchmarks"])
        return ('{\n  "context": ' + json.dumps(doc["context"], indent=4).replace("\n", "\n  ")
                + ',\n  "benchmarks": [\n    ' + body + "\n  ]\n}\n")
    return "[\n" + ",\n".join(json.dumps(case) for case in doc) + "\n]\n"


def fixture_files() -> dict[str, str]:
    """Every generated fixture: relative path -> text."""
    return {
        "hand.json": dumps(hand_run()),
        "run/results.json": dumps(synthetic_run(seed=1)),
        "run/results.trace.json": dumps(synthetic_trace()),
        "baseline.json": dumps(synthetic_run(seed=11, repetitions=5, everything=False)),
        "rerun.json": dumps(synthetic_run(seed=12, repetitions=5, everything=False)),
        "three_reps.json": dumps(synthetic_run(seed=13, repetitions=3, everything=False)),
    }


def main() -> None:
    for relative, text in fixture_files().items():
        path = FIXTURES / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(path)


if __name__ == "__main__":
    main()
