"""A run's journal (docs/results-format.md, "The journal") and the results.json it stands for.

cbench_bench appends one JSON line per finished case to ``results.journal.jsonl`` as the case
finishes: a header ``{"cbench_journal": 1, "cases": N, "context": {...}}`` for each part of the
run (a resumed run adds a part), then each case's rows as a JSON array. ``assemble`` turns it
into the Google Benchmark JSON the binary would have written had it finished: the first part's
context and every row in the order the cases finished. A last line cut off by a crash is left out
and counted.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .load import UnusableInput

SUFFIXES = ("min_time:", "min_warmup_time:", "iterations:", "repeats:", "threads:")
PLAIN_SUFFIXES = ("process_time", "real_time", "manual_time")


@dataclass(frozen=True)
class Assembled:
    document: dict[str, Any]  # Google Benchmark JSON: context and benchmarks
    finished: int             # cases with rows in the journal
    cases: int                # cases the run registered (its first part)
    parts: int                # the run and its resumptions
    cut_lines: int            # lines left out: cut off, or not JSON


def case_name(run_name: str) -> str:
    """A row's run_name without Google Benchmark's own segments: the case's name."""
    segments = run_name.split("/")
    kept = [segments[0]]
    for segment in segments[1:]:
        if segment.startswith(SUFFIXES) or segment in PLAIN_SUFFIXES:
            break
        kept.append(segment)
    return "/".join(kept)


def assemble(journal: Path) -> Assembled:
    try:
        # Bytes that are not UTF-8 (a file name, an error message) are kept, not fatal.
        lines = journal.read_text(encoding="utf-8", errors="surrogateescape").splitlines()
    except OSError as error:
        raise UnusableInput(f"{journal}: cannot read the journal: {error.strerror}") from error
    context: dict[str, Any] | None = None
    cases = parts = cut = 0
    rows: list[dict[str, Any]] = []
    finished: set[str] = set()
    for line in lines:
        if not line.strip():
            continue
        try:
            value = json.loads(line, strict=False)
        except json.JSONDecodeError:
            cut += 1
            continue
        if isinstance(value, dict) and value.get("cbench_journal") == 1:
            parts += 1
            if context is None:
                context = dict(value.get("context") or {})
                cases = int(value.get("cases") or 0)
            continue
        if isinstance(value, list):
            for row in value:
                if isinstance(row, dict):
                    rows.append(row)
                    finished.add(case_name(str(row.get("run_name") or row.get("name") or "")))
            continue
        cut += 1
    if context is None:
        raise UnusableInput(f"{journal}: no header line: not a cbench journal")
    if parts > 1:
        context["cbench_parts"] = str(parts)
    return Assembled({"context": context, "benchmarks": rows}, len(finished), cases, parts, cut)


def write_assembled(journal: Path, out: Path) -> Assembled:
    """Assembles the journal and writes the JSON to ``out`` (through a temporary file, so that
    an interrupted write never leaves a half file)."""
    result = assemble(journal)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(json.dumps(result.document, indent=2) + "\n", encoding="utf-8",
                   errors="surrogateescape")
    tmp.replace(out)
    return result
