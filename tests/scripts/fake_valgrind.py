#!/usr/bin/env python3
"""A stand-in for ``valgrind --tool=callgrind`` in the tests of the counted lens: it runs the
(fake) benchmark binary, then writes what callgrind and a cbench_bench built with Valgrind's
headers would have: a dump per counted row labelled ``cbench-count|N|`` with a ``totals:`` line
and a few functions' costs, and a log whose traced system calls sit between the region marks.
Each row's instructions are fixed by its name; the binary's wrapper may name
``--fake_work=X`` (every row X times the work) and ``--fake_work_only=WORKLOAD`` (only that
workload's rows), or ``--fake_syscall_extra=EXECUTOR`` (one more system call per task in that
executor's rows). ``--fake_unknown_instruction`` in the wrapper stops it as Valgrind stops on an
instruction it does not know."""
import json
import os
import re
import subprocess
import sys
import zlib
from pathlib import Path


def main(argv: list[str]) -> int:
    options, rest = [], list(argv)
    while rest and rest[0].startswith("--"):
        options.append(rest.pop(0))
    if options == ["--version"]:
        print("valgrind-fake")
        return 0
    binary, args = rest[0], rest[1:]
    opts = dict(o.partition("=")[::2] for o in options)
    cg_pattern, log_pattern = opts["--callgrind-out-file"], opts["--log-file"]
    wrapper = Path(binary).read_text(errors="replace")
    flag = lambda name: (re.search(rf"--{name}(?:=(\S+))?", wrapper) or [None, None])
    pid = os.getpid()
    log = Path(log_pattern.replace("%p", str(pid)))
    if flag("fake_unknown_instruction")[0]:
        log.write_text("vex amd64->IR: unhandled instruction bytes: 0x62 0xF1\n")
        return 1
    passed = [a for a in args if not a.startswith("--cbench_")]
    result = subprocess.run([binary, *passed], stdout=subprocess.DEVNULL, check=False)
    if result.returncode != 0:
        return result.returncode
    out = Path(next(a for a in args if a.startswith("--benchmark_out=")).split("=", 1)[1])
    doc = json.loads(out.read_text())
    work = float(flag("fake_work")[1] or 1)
    only = flag("fake_work_only")[1]
    extra_calls = flag("fake_syscall_extra")[1]
    lines = []
    region = 0
    for row in doc["benchmarks"]:
        if row.get("run_type", "iteration") != "iteration":
            continue
        region += 1
        row["count_region"], row["count_tasks"] = region, 10
        name = row["name"]
        workload, executor = name.split("/")[0], re.search(r"executor:([^/]+)", name)
        scale = work if (only is None or only == workload) else 1.0
        body = int((zlib.crc32(name.encode()) % 1000 + 1000) * 1000 * scale)
        dispatch = 5000
        label = f"cbench-count|{region}|"
        Path(cg_pattern.replace("%p", str(pid)) + f".{region}").write_text(
            f"version: 1\ncreator: fake\npid: {pid}\ncmd: {binary}\npart: {region}\n\n"
            f"desc: Trigger: Client Request: {label}\n\npositions: line\nevents: Ir\n\n"
            f"fn=work_{workload}\n0 {body}\ncfn=helper\ncalls=1 0\n0 77\n\n"
            f"fn=dispatch\n0 {dispatch}\n\ntotals: {body + dispatch}\n")
        calls = 10 * (2 if extra_calls and executor and executor.group(1) == extra_calls else 1)
        lines.append(f"**{pid}** cbench-count: begin\n")
        lines += [f"SYSCALL[{pid},1](1) sys_write ( 1, 0x0, 1 ) --> Success(0x1)\n"] * calls
        lines.append(f"SYSCALL[{pid},1](7) ... [async] --> Success(0x0)\n")
        lines.append(f"**{pid}** cbench-count: end {label}\n")
    out.write_text(json.dumps(doc))
    log.write_text("".join(lines))
    Path(cg_pattern.replace("%p", str(pid))).write_text(
        f"pid: {pid}\ndesc: Trigger: Program termination\n\ntotals: 12\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
