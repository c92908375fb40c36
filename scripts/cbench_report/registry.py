"""The executors of a run, as the benchmark binary recorded them, so that the report reads what
an executor is (the reference, threads, processes, a runtime's floor) and never its name.

The binary writes two context entries (benchmarks/main.cpp): ``cbench_executors``, the registry's
executors in its order as ``name:where-its-workers-live`` pairs (caller, threads, coroutines,
processes, ranks), and ``cbench_native_floors``, ``floor:executor`` pairs for the rows that
measure a runtime alone beside its executor. Runs written before these entries existed get the
executors of that time, so that committed baselines still read the same.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

EARLIER_EXECUTORS = ("sequential:caller,thread:threads,pool:threads,tbb:threads,fork:processes,"
                     "coro:coroutines,mpi:ranks")
EARLIER_FLOORS = "asio-co_spawn:coro"


def _pairs(text: str) -> list[tuple[str, str]]:
    pairs = []
    for item in text.split(","):
        name, _, value = item.strip().partition(":")
        if name:
            pairs.append((name, value))
    return pairs


class Registry:
    def __init__(self, executors: str = EARLIER_EXECUTORS, floors: str = EARLIER_FLOORS):
        self.workers = dict(_pairs(executors))
        self.order = tuple(self.workers)
        self.floors = dict(_pairs(floors))

    def reference(self) -> str:
        """The executor every other is measured against: the one whose caller runs the tasks."""
        return next((n for n, w in self.workers.items() if w == "caller"), "sequential")

    def is_reference(self, name: str) -> bool:
        return name == self.reference()

    def floor_of(self, name: str) -> str | None:
        """The executor whose runtime the row ``name`` measures alone, or None."""
        return self.floors.get(name)

    def of_kind(self, workers: str) -> tuple[str, ...]:
        """The executors whose workers are ``workers`` (threads, processes, ...), in order."""
        return tuple(n for n in self.order if self.workers[n] == workers)


_current = Registry()


def use(context: Mapping[str, Any]) -> Registry:
    """Reads the registry of a run's context (the earlier one when it has none) and makes it the
    one the report's modules consult."""
    global _current
    _current = Registry(str(context.get("cbench_executors") or EARLIER_EXECUTORS),
                        str(context.get("cbench_native_floors") or EARLIER_FLOORS))
    return _current


def current() -> Registry:
    return _current
