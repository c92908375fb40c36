"""Reads and validates a Google Benchmark JSON run, converts times to seconds and groups the
repetitions of each benchmark.

Everything that makes a file unusable raises ``UnusableInput`` whose text is the one line the
CLI prints (file and problem), so a broken file never ends in a traceback.
"""
from __future__ import annotations

import dataclasses
import json
import math
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import registry
from .names import Name, guess_aggregate, parse_name

SECONDS_PER_UNIT = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}

# A row's fields that Google Benchmark writes itself; every other number is a user counter.
GB_FIELDS = frozenset({
    "name", "family_index", "per_family_instance_index", "run_name", "run_type", "repetitions",
    "repetition_index", "threads", "iterations", "real_time", "cpu_time", "time_unit",
    "aggregate_name", "aggregate_unit", "error_occurred", "error_message", "skipped",
    "skip_message", "label", "big_o", "rms", "complexity_n",
})


class UnusableInput(Exception):
    """A file (or a build) the report cannot use; ``str()`` is one line naming it and why."""


@dataclass(frozen=True)
class Row:
    """One row of ``benchmarks``, its times in seconds (a ``cv`` aggregate stays a fraction)."""

    name: Name
    run_type: str
    repetition_index: int
    real_time: float
    cpu_time: float
    iterations: int
    counters: dict[str, float]
    error: str | None = None


@dataclass(frozen=True)
class Benchmark:
    """All the rows of one benchmark: its repetitions, its aggregates, its errors."""

    name: Name
    real_times: tuple[float, ...]  # seconds, one per successful repetition, in order
    cpu_times: tuple[float, ...]
    counters: dict[str, float]  # median over the repetitions
    aggregates: dict[str, float] = field(default_factory=dict)  # aggregate rows' real_time
    errors: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return self.name.key

    @property
    def repetitions(self) -> int:
        return len(self.real_times)

    @property
    def median(self) -> float | None:
        """Median real time in seconds; from the aggregates when only those were written."""
        if self.real_times:
            return statistics.median(self.real_times)
        return self.aggregates.get("median", self.aggregates.get("mean"))

    def counter(self, name: str) -> float | None:
        return self.counters.get(name)


@dataclass(frozen=True)
class Run:
    """A whole run: the file it came from, its context, its benchmarks by key in file order."""

    path: str
    context: dict[str, Any]
    benchmarks: dict[str, Benchmark]
    # A run across hosts swept once per link setting (scripts/bench --links): each setting's
    # benchmarks, keyed as a run of one setting is; ``benchmarks`` holds the first setting's, so
    # that every table and chart reads as for one run, and the link chart compares them.
    links: dict[str, dict[str, Benchmark]] = field(default_factory=dict)

    def ctx(self, key: str, default: str = "") -> str:
        value = self.context.get(key, default)
        return default if value is None else str(value)


def read_document(path: str | Path) -> dict[str, Any]:
    """Reads a JSON file and checks it has the shape of Google Benchmark output."""
    try:
        text = Path(path).read_bytes().decode("utf-8")
    except OSError as error:
        raise UnusableInput(f"{path}: cannot read it ({error.strerror or error})") from None
    except UnicodeDecodeError as error:
        raise UnusableInput(f"{path}: not UTF-8 text (byte {error.start})") from None
    if not text.strip():
        raise UnusableInput(f"{path}: the file is empty, not Google Benchmark JSON")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as error:
        raise UnusableInput(f"{path}: malformed JSON ({error.msg} at line {error.lineno}, "
                            f"column {error.colno})") from None
    if not isinstance(doc, dict) or "benchmarks" not in doc or "context" not in doc:
        raise UnusableInput(f"{path}: not Google Benchmark output (expected an object with "
                            f"\"context\" and \"benchmarks\")")
    if not isinstance(doc["context"], dict):
        raise UnusableInput(f"{path}: not Google Benchmark output (\"context\" is not an object)")
    if not isinstance(doc["benchmarks"], list):
        raise UnusableInput(f"{path}: not Google Benchmark output (\"benchmarks\" is not a list)")
    if not doc["benchmarks"]:
        raise UnusableInput(f"{path}: no benchmark rows (\"benchmarks\" is empty)")
    return doc


def parse_row(raw: Any, index: int, path: str | Path) -> Row:
    """Validates one row and converts its times to seconds."""
    where = f"{path}: benchmarks[{index}]"
    if not isinstance(raw, dict):
        raise UnusableInput(f"{where}: not an object")
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise UnusableInput(f"{where}: no \"name\" string")
    for time_field in ("real_time", "cpu_time"):
        value = raw.get(time_field, 0.0 if time_field == "cpu_time" else None)
        if not is_number(value):
            raise UnusableInput(f"{where} ({name}): no \"{time_field}\" number")
    unit = raw.get("time_unit")
    if not isinstance(unit, str) or unit not in SECONDS_PER_UNIT:
        raise UnusableInput(f"{where} ({name}): unknown \"time_unit\" {unit!r} "
                            f"(expected one of {', '.join(SECONDS_PER_UNIT)})")
    run_type = raw.get("run_type")
    if run_type == "aggregate":
        aggregate = str(raw.get("aggregate_name") or guess_aggregate(name) or "")
    elif run_type is None:
        aggregate = guess_aggregate(name)
    else:
        aggregate = None
    # A coefficient of variation is a ratio: Google Benchmark marks it "percentage" and writes a
    # fraction; it is not a time, so it is not scaled.
    scale = 1.0 if raw.get("aggregate_unit") == "percentage" else SECONDS_PER_UNIT[unit]
    error = None
    if raw.get("error_occurred") or raw.get("skipped"):
        error = str(raw.get("error_message") or raw.get("skip_message") or "failed")
    counters = {k: float(v) for k, v in raw.items() if k not in GB_FIELDS and is_number(v)}
    return Row(
        name=parse_name(name, aggregate),
        run_type="aggregate" if aggregate else "iteration",
        repetition_index=_count(raw, "repetition_index", f"{where} ({name})"),
        real_time=float(raw["real_time"]) * scale,
        cpu_time=float(raw.get("cpu_time", 0.0)) * scale,
        iterations=_count(raw, "iterations", f"{where} ({name})"),
        counters=counters,
        error=error,
    )


def _count(raw: dict, field: str, where: str) -> int:
    """A row's whole-number field: 0 when it is absent or empty, else a finite number."""
    value = raw.get(field)
    if value is None or value == "":
        return 0
    if not is_number(value):
        raise UnusableInput(f"{where}: \"{field}\" is not a number ({value!r:.40})")
    return int(value)


def group_rows(rows: list[Row]) -> dict[str, Benchmark]:
    """Gathers the repetitions and aggregates of each benchmark, keyed by our name."""
    by_key: dict[str, list[Row]] = {}
    for row in rows:
        by_key.setdefault(row.name.key, []).append(row)
    return {key: _benchmark(group) for key, group in by_key.items()}


def load_run(path: str | Path) -> Run:
    """Reads, validates and groups a run; raises ``UnusableInput`` naming the file."""
    doc = read_document(path)
    rows = [parse_row(raw, i, path) for i, raw in enumerate(doc["benchmarks"])]
    if "cbench_executors" in doc["context"]:
        registry.use(doc["context"])  # a run of the binary, not of a peer: its registry
    links = split_links(rows)
    if not links:
        return Run(str(path), dict(doc["context"]), group_rows(rows))
    by_link = {link: group_rows(mine) for link, mine in links.items()}
    return Run(str(path), dict(doc["context"]), next(iter(by_link.values())), by_link)


def split_links(rows: list[Row]) -> dict[str, list[Row]]:
    """The rows of each link setting (``link:SETTING`` in their names), in the order first
    seen, each name without that segment; empty when no row has one."""
    if not any("link" in r.name.params for r in rows):
        return {}
    links: dict[str, list[Row]] = {}
    for r in rows:
        link = r.name.params.get("link", "")
        params = {k: v for k, v in r.name.params.items() if k != "link"}
        key = "/".join(s for s in r.name.key.split("/") if s != f"link:{link}")
        name = Name(key, r.name.family, params, r.name.aggregate)
        links.setdefault(link, []).append(dataclasses.replace(r, name=name))
    return links


def _benchmark(rows: list[Row]) -> Benchmark:
    iterations = sorted((r for r in rows if r.run_type == "iteration" and r.error is None),
                        key=lambda r: r.repetition_index)
    aggregates = {r.name.aggregate: r.real_time for r in rows
                  if r.run_type == "aggregate" and r.name.aggregate and r.error is None}
    source = iterations or [r for r in rows if r.name.aggregate == "median"]
    names = {k for r in source for k in r.counters}
    counters = {k: statistics.median(r.counters[k] for r in source if k in r.counters)
                for k in sorted(names)}
    return Benchmark(
        name=rows[0].name if rows[0].run_type == "iteration" else _without_aggregate(rows[0].name),
        real_times=tuple(r.real_time for r in iterations),
        cpu_times=tuple(r.cpu_time for r in iterations),
        counters=counters,
        aggregates=aggregates,
        errors=tuple(dict.fromkeys(r.error for r in rows if r.error)),
    )


def _without_aggregate(name: Name) -> Name:
    return Name(name.key, name.family, name.params, None)


def is_number(value: Any) -> bool:
    """A JSON number that is finite (not a bool, not NaN or infinite, not an integer beyond what a
    float holds)."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an int too large for a float
        return False
