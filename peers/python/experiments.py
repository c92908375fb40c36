"""Each experiment as tasks for the executors, plus how to check its results against the C++ CLI."""
from __future__ import annotations

import json
import math
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable

from . import workloads as w
from .corpus import Corpus, book_url

# The C++ quick preset's sizes (benchmarks/suite.cpp); tests pass smaller ones.
QUICK = {"iterations": 100_000, "eigen_size": 200, "count_size": 5, "interval": 0.010,
         "double_size": 10, "chunks": 16, "matrices": 8}
WORKLOADS = ["count", "wordcount", "wordcount-http", "pbkdf2", "eigen", "double", "wordfreq"]


@dataclass
class Experiment:
    name: str
    work_kind: str  # "cpu" or "waiting": which ideal applies
    tasks: list  # (name, fn, args)
    executors: list[str]
    async_tasks: list | None = None  # (name, coroutine fn, args) for the coro executor
    session: bool = False  # coro tasks take an aiohttp session first
    reduce: Callable[[list], Any] | None = None
    cli_args: list[str] = field(default_factory=list)


def build(workload: str, corpus: Corpus, sizes: dict, books_url: str | None = None) -> Experiment:
    s = {**QUICK, **sizes}
    stop = corpus.stop_words
    everything = ["sequential", "thread", "pool", "fork"]
    if workload == "count":
        n, interval = s["count_size"], s["interval"]
        tasks = [("worker", w.count, (1, 1 + n, interval)), ("main", w.count, (n + 1, 2 * n + 1, interval))]
        return Experiment("count", "waiting", tasks, ["sequential", "thread", "coro"],
                          async_tasks=[(name, w.count_async, a) for name, _, a in tasks],
                          cli_args=["--size", str(n), "--interval", repr(interval)])
    if workload == "wordcount":
        tasks = [(name, w.most_common_word, (text, stop)) for name, text in corpus.books.items()]
        return Experiment("wordcount", "cpu", tasks, everything)
    if workload == "wordcount-http":
        if not books_url:
            raise ValueError("wordcount-http needs a books URL template (the fixture server)")
        urls = [(name, book_url(books_url, name)) for name in corpus.books]
        tasks = [(name, w.most_common_word_url, (url, stop)) for name, url in urls]
        return Experiment("wordcount-http", "waiting", tasks, everything + ["coro"],
                          async_tasks=[(name, w.most_common_word_aiohttp, (url, stop)) for name, url in urls],
                          session=True, cli_args=["--books-url", books_url])
    if workload == "pbkdf2":
        tasks = [(name, w.fingerprint, (text, s["iterations"])) for name, text in corpus.books.items()]
        return Experiment("pbkdf2", "cpu", tasks, everything, cli_args=["--iterations", str(s["iterations"])])
    if workload == "eigen":
        n = s["eigen_size"]
        tasks = [(f"matrix {i}", w.largest_eigenvalue, (i, n)) for i in range(s["matrices"])]
        return Experiment("eigen", "cpu", tasks, everything, cli_args=["--size", str(n)])
    if workload == "double":
        tasks = [(f"x={x}", w.double, (x,)) for x in range(s["double_size"])]
        return Experiment("double", "cpu", tasks, everything, cli_args=["--size", str(s["double_size"])])
    if workload == "wordfreq":
        whole = b"\n".join(corpus.books.values())
        chunks = w.split_at_whitespace(whole, s["chunks"])
        tasks = [(f"chunk {i}", w.word_frequencies, (c,)) for i, c in enumerate(chunks)]
        return Experiment("wordfreq", "cpu", tasks, everything, reduce=lambda counters: sum(counters, Counter()),
                          cli_args=["--chunks", str(s["chunks"])])
    raise ValueError(f"unknown workload {workload!r} (known: {', '.join(WORKLOADS)})")


# ---- checking -----------------------------------------------------------------------------------


class Mismatch(AssertionError):
    pass


def same(workload: str, a, b) -> bool:
    if workload == "eigen":
        return all(math.isclose(x, y, rel_tol=1e-7, abs_tol=1e-7 * max(1.0, abs(a)))
                   for x, y in ((a.real, b.real), (a.imag, b.imag)))
    return a == b


def check(experiment: Experiment, results: list, reference: list, against: str) -> None:
    """Raises Mismatch naming the first task whose result differs from `reference`."""
    for (name, _, _), got, want in zip(experiment.tasks, results, reference):
        if not same(experiment.name, got, want):
            raise Mismatch(f"{experiment.name}: task {name!r} gave {summary(got)}, {against} gave {summary(want)}")
    if len(results) != len(reference):
        raise Mismatch(f"{experiment.name}: {len(results)} results, {against} has {len(reference)}")


def summary(value) -> str:
    if isinstance(value, Counter):
        return f"{sum(value.values())} words, {len(value)} distinct"
    return repr(value)


CORPUS_WORKLOADS = {"wordcount", "wordcount-http", "pbkdf2", "wordfreq"}


def run_cli(cli: str, workload: str, args: list[str], fixtures: str | None = None) -> dict:
    command = [cli, "run", "--workload", workload, "--json", *args]
    if fixtures and workload in CORPUS_WORKLOADS:  # the CLI refuses --fixtures elsewhere
        command += ["--fixtures", str(fixtures)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}): {done.stderr.strip()}")
    return json.loads(done.stdout)


def from_cli(workload: str, value):
    """A C++ result (its `value` in `cbench run --json`) as the Python result it must equal."""
    if workload in ("wordcount", "wordcount-http"):
        return (value["word"], value["count"])
    if workload == "eigen":
        return complex(value["real"], value["imag"])
    return value  # pbkdf2: hex; double: int; count: list; wordfreq: {"words", "distinct"}


def comparable(workload: str, value):
    """A Python result in the shape the C++ JSON carries."""
    if workload == "wordfreq":
        return {"words": sum(value.values()), "distinct": len(value)}
    if workload in ("wordcount", "wordcount-http"):
        return tuple(value)
    return value


def summary_lines(total: Counter) -> list[str]:
    lines = [f"Most frequent words in the corpus ({len(total)} distinct):"]
    lines += [f'  {rank}. "{word}" ({n} appearances)' for rank, (word, n) in enumerate(w.top_words(total), 1)]
    return lines


def check_cli(experiment: Experiment, results: list, doc: dict) -> None:
    """Raises Mismatch naming the task whose result differs from the C++ CLI's."""
    names = [name for name, _, _ in experiment.tasks]
    cpp_names = [r["task"] for r in doc["results"]]
    if names != cpp_names:
        raise Mismatch(f"{experiment.name}: tasks {names} but the C++ CLI ran {cpp_names}")
    for name, got, row in zip(names, results, doc["results"]):
        if not row.get("ok", True):
            raise Mismatch(f"{experiment.name}: task {name!r} failed in the C++ CLI: {row}")
        want = from_cli(experiment.name, row["value"])
        got = comparable(experiment.name, got)
        if not same(experiment.name, got, want):
            raise Mismatch(f"{experiment.name}: task {name!r} gave {got!r}, the C++ CLI gave {want!r}")
    if experiment.reduce is not None and doc.get("summary"):
        ours = summary_lines(experiment.reduce(results))
        if ours != doc["summary"]:
            raise Mismatch(f"{experiment.name}: merged result differs from the C++ CLI's: "
                           f"{ours[:3]} vs {doc['summary'][:3]}")
