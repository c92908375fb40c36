"""A run's journal (docs/results-format.md, "The journal") and the results.json it stands for.

cbench_bench appends one JSON line per finished case to ``results.journal.jsonl`` as the case
finishes: a header ``{"cbench_journal": 1, "cases": N, "context": {...}}`` for each part of the
run (a resumed run adds a part), then each case's rows as a JSON array. ``assemble`` turns it
into the Google Benchmark JSON the binary would have written had it finished: the first part's
context and every row in the order the cases finished. A last line cut off by a crash is left out
and counted.

A case measured while the host was slow (its rows' ``host_disturbed`` counter) is measured again
later in the run (``scripts/bench``, at most ``MAX_MEASUREMENTS`` times in all): the journal then
holds it more than once, and the assembled run keeps its measurement on the quietest host (the
smallest ``host_slowdown``; on a tie, the later). The context says how many cases were measured
again (``cbench_remeasured``) and how many never ran clean (``cbench_never_clean``).

The sequential reference rows of the experiments, which every speedup and efficiency divides
by, are always measured ``MAX_MEASUREMENTS`` times, and the assembled run keeps the fastest of
their clean measurements: a time on a shared host is the work's own time plus whatever else took
the core or the memory bus, so the fastest of three is the best estimate of the undisturbed
reference (a single slow reference row made every row of its workload look faster than the ideal
schedule). Speedups against it are, if anything, conservative. The context counts them apart
(``cbench_references_measured``).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import registry
from .load import UnusableInput
from .names import case_name, parse_name, with_param
from .files import write_text

MAX_MEASUREMENTS = 3  # a case and at most two measurements again


@dataclass(frozen=True)
class Assembled:
    document: dict[str, Any]  # Google Benchmark JSON: context and benchmarks
    finished: int             # cases with rows in the journal
    cases: int                # cases the run registered (its first part)
    parts: int                # the run and its resumptions
    cut_lines: int            # lines left out: cut off, or not JSON


def assemble(journal: Path) -> Assembled:
    try:
        # Bytes that are not UTF-8 (a file name, an error message) are kept, not fatal.
        lines = journal.read_text(encoding="utf-8", errors="surrogateescape").splitlines()
    except OSError as error:
        raise UnusableInput(f"{journal}: cannot read the journal: {error.strerror}") from error
    context: dict[str, Any] | None = None
    cases = parts = cut = 0
    entries: dict[str, list[list[dict[str, Any]]]] = {}  # per case, each measurement's rows
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
                # A field of another type is read as missing, as the binary's resume reads it.
                header_context = value.get("context")
                context = dict(header_context) if isinstance(header_context, dict) else {}
                header_cases = value.get("cases")
                cases = (header_cases if isinstance(header_cases, int) and not isinstance(
                    header_cases, bool) and header_cases > 0 else 0)
            continue
        if isinstance(value, list):
            rows = [row for row in value if isinstance(row, dict)]
            if rows:
                name = case_name(str(rows[0].get("run_name") or rows[0].get("name") or ""))
                entries.setdefault(name, []).append(rows)
            continue
        cut += 1
    if context is None:
        raise UnusableInput(f"{journal}: no header line: not a cbench journal")
    if parts > 1:
        context["cbench_parts"] = str(parts)
    kept = {name: fastest_clean(measured) if is_reference_case(name) else quietest(measured)
            for name, measured in entries.items()}
    again = sum(len(m) > 1 and not is_reference_case(n) for n, m in entries.items())
    references = sum(len(m) > 1 and is_reference_case(n) for n, m in entries.items())
    if again or references:
        context["cbench_remeasured"] = str(again)
        context["cbench_never_clean"] = str(sum(disturbed(rows) for rows in kept.values()))
    if references:
        context["cbench_references_measured"] = str(references)
    rows = [row for name in kept for row in kept[name]]
    return Assembled({"context": context, "benchmarks": rows}, len(kept), cases, parts, cut)


def slowdown(rows: list[dict[str, Any]]) -> float:
    """How slow the host was around a measurement (1: as calibrated; 0: not watched)."""
    values = [r.get("host_slowdown") for r in rows]
    return max((float(v) for v in values if isinstance(v, (int, float))), default=0.0)


def disturbed(rows: list[dict[str, Any]]) -> bool:
    return any(r.get("host_disturbed") == 1 for r in rows)


def quietest(measured: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Of a case's measurements, the one on the quietest host (the later on a tie)."""
    best = measured[0]
    for rows in measured[1:]:
        if slowdown(rows) <= slowdown(best):
            best = rows
    return best


def is_reference_case(name: str) -> bool:
    """A sequential reference row of an experiment, in the suite's own language."""
    parsed = parse_name(name)
    return (parsed.is_experiment and parsed.lang == "cpp"
            and registry.current().is_reference(parsed.executor or ""))


def seconds_of(rows: list[dict[str, Any]]) -> float:
    """A measurement's time: the median of its iteration rows' real time (inf: none)."""
    times = sorted(float(r["real_time"]) for r in rows
                   if r.get("run_type", "iteration") == "iteration"
                   and isinstance(r.get("real_time"), (int, float)) and not r.get("error_occurred"))
    return times[len(times) // 2] if times else float("inf")


def fastest_clean(measured: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Of a reference's measurements, the fastest of those on an undisturbed host (the
    quietest, when none was)."""
    clean = [rows for rows in measured if not disturbed(rows)]
    return min(clean, key=seconds_of) if clean else quietest(measured)


def to_measure_again(journal: Path) -> list[str]:
    """The cases whose kept measurement was disturbed, and the experiments' sequential
    references, measured fewer than MAX_MEASUREMENTS times: what scripts/bench measures again
    (--cbench_remeasure)."""
    doc = assemble(journal).document
    counts: dict[str, int] = {}
    for line in journal.read_text(encoding="utf-8", errors="surrogateescape").splitlines():
        if line.startswith("["):
            try:
                rows = json.loads(line, strict=False)
            except json.JSONDecodeError:
                continue
            if rows and isinstance(rows[0], dict):
                name = case_name(str(rows[0].get("run_name") or rows[0].get("name") or ""))
                counts[name] = counts.get(name, 0) + 1
    by_case: dict[str, list[dict[str, Any]]] = {}
    for row in doc["benchmarks"]:
        by_case.setdefault(case_name(str(row.get("run_name") or row.get("name") or "")),
                           []).append(row)
    return [name for name, rows in by_case.items()
            if (disturbed(rows) or is_reference_case(name))
            and counts.get(name, 0) < MAX_MEASUREMENTS]


def read_records(journal: Path) -> list[Any]:
    """A journal's lines as JSON values, in order; a line a crash cut off is left out (as
    assembling leaves it out)."""
    records = []
    with journal.open(encoding="utf-8", errors="surrogateescape") as lines:
        for line in lines:
            try:
                records.append(json.loads(line, strict=False))
            except json.JSONDecodeError:
                continue
    return records


def merge_link_journals(run_dir: Path, links: list[str]) -> int:
    """The journals of a run swept once per link setting (``results.link-SETTING.journal.jsonl``)
    merged into the run's one journal: one header counting every setting's cases, and each row's
    name and run_name given ``link:SETTING``, so that assembling, the report and the charts see
    one run. Returns the cases merged."""
    header: dict[str, Any] | None = None
    cases: list[list[dict[str, Any]]] = []
    for link in links:
        path = run_dir / f"results.link-{link}.journal.jsonl"
        if not path.exists():
            continue  # the sweep stopped before this setting
        for record in read_records(path):
            if isinstance(record, dict):
                if header is None:
                    header = dict(record, cases=0)
                header["cases"] += int(record.get("cases") or 0)
            elif isinstance(record, list):
                cases.append([labelled(row, "link", link) for row in record
                              if isinstance(row, dict)])
    if header is not None:
        write_text(run_dir / "results.journal.jsonl",
                   "".join(json.dumps(record) + "\n" for record in [header, *cases]),
                   encoding="utf-8", errors="surrogateescape")
    return len(cases)


def labelled(row: dict[str, Any], key: str, value: str) -> dict[str, Any]:
    """A row with ``key:value`` in its name and run_name (an aggregate's suffix kept)."""
    row = dict(row)
    run_name, name = str(row.get("run_name") or ""), row.get("name")
    if run_name and isinstance(name, str) and name.startswith(run_name):
        row["name"] = with_param(run_name, key, value) + name[len(run_name):]
    elif isinstance(name, str):
        row["name"] = with_param(name, key, value)
    if run_name:
        row["run_name"] = with_param(run_name, key, value)
    return row


def write_assembled(journal: Path, out: Path) -> Assembled:
    """Assembles the journal and writes the JSON to ``out`` (through a temporary file, so that
    an interrupted write never leaves a half file)."""
    result = assemble(journal)
    write_text(out, json.dumps(result.document, indent=2) + "\n", encoding="utf-8",
               errors="surrogateescape")
    return result
