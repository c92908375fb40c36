"""Our benchmark names, ``family/key:value/...`` (docs/results-format.md), parsed.

Google Benchmark adds segments of its own to the names it writes: ``process_time`` and
``real_time`` (always, for our cases), ``min_time:0.200`` when a case sets its own minimum time,
``repeats:5`` when it sets its own repetitions, ``threads:N``, and a ``_mean``/``_median``/...
suffix on aggregate rows. They are stripped here, so that the same case keeps the same key across
presets and builds (a baseline with ``repeats:5`` still matches a run without it).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

GB_FLAG_SEGMENTS = frozenset({"process_time", "real_time", "manual_time"})
GB_KEYED_SEGMENTS = frozenset({"min_time", "min_warmup_time", "iterations", "repeats", "threads"})
AGGREGATE_SUFFIX = re.compile(r"_(mean|median|stddev|cv)$")
# The modes of a nested experiment's rows (fib, uts): through an executor's fork-join, through the
# pool's variant whose waiting workers block, and the row of an executor without the capability.
NESTED_MODES = frozenset({"fork-join", "blocking", "not-supported"})


@dataclass(frozen=True)
class Name:
    """One parsed name: ``key`` is ours, without Google Benchmark's segments or suffix."""

    key: str
    family: str
    params: dict[str, str] = field(default_factory=dict)
    aggregate: str | None = None

    def get(self, param: str, default: str | None = None) -> str | None:
        return self.params.get(param, default)

    @property
    def executor(self) -> str | None:
        return self.params.get("executor")

    @property
    def mode(self) -> str:
        return self.params.get("mode", "map")

    @property
    def lang(self) -> str:
        """``cpp`` for the suite's own rows; a peer's rows say ``lang:python``."""
        return self.params.get("lang", "cpp")

    def int_param(self, param: str) -> int | None:
        value = self.params.get(param)
        try:
            return int(value) if value is not None else None
        except ValueError:
            return None

    @property
    def is_experiment(self) -> bool:
        """An experiment row: a workload family (not an overhead or granularity case, nor a
        nested experiment's fork-join row or a runtime's own fib: nested.py reads those)."""
        return (not self.family.startswith("overhead:") and not self.family.startswith("granularity")
                and self.family != "scale" and not self.family.endswith(":native")
                and self.mode not in NESTED_MODES
                and "executor" in self.params and "workers" in self.params)


def parse_name(name: str, aggregate: str | None = None) -> Name:
    """Parses ``name``; ``aggregate`` is the row's ``aggregate_name`` when it is an aggregate row.

    Without ``aggregate`` the name is taken as an iteration row's, unless ``guess_aggregate``
    recognised a suffix (for JSON written without ``run_type``).
    """
    if aggregate and name.endswith("_" + aggregate):
        name = name[: -len(aggregate) - 1]
    segments = name.split("/")
    family, ours = segments[0], []
    params: dict[str, str] = {}
    for segment in segments[1:]:
        if is_gb_segment(segment):
            continue
        key, _, value = segment.partition(":")
        ours.append(segment)
        params[key] = value
    return Name("/".join([family, *ours]), family, params, aggregate or None)


def is_gb_segment(segment: str) -> bool:
    """A segment Google Benchmark adds to our names (``real_time``, ``min_time:0.050``, ...)."""
    key, colon, _ = segment.partition(":")
    return segment in GB_FLAG_SEGMENTS or bool(colon and key in GB_KEYED_SEGMENTS)


def _first_gb_segment(segments: list[str]) -> int:
    return next((i for i, s in enumerate(segments) if i > 0 and is_gb_segment(s)), len(segments))


def case_name(run_name: str) -> str:
    """A row's run_name without Google Benchmark's segments: the case's name, the one
    ``--benchmark_filter`` sees and the journal and ``--cbench_remeasure`` use."""
    segments = run_name.split("/")
    return "/".join(segments[:_first_gb_segment(segments)])


def with_param(name: str, key: str, value: str) -> str:
    """``name`` with ``key:value`` added after our own segments (before Google Benchmark's)."""
    segments = name.split("/")
    at = _first_gb_segment(segments)
    return "/".join(segments[:at] + [f"{key}:{value}"] + segments[at:])


def guess_aggregate(name: str) -> str | None:
    """The aggregate a name's suffix announces (``_median`` -> ``median``), for rows without
    ``run_type``/``aggregate_name`` (older Google Benchmark)."""
    match = AGGREGATE_SUFFIX.search(name)
    return match.group(1) if match else None
