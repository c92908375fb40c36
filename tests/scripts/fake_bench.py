#!/usr/bin/env python3
"""A stand-in for the cbench_bench binary in the tests of ``compare --builds``: it takes Google
Benchmark's flags, writes a small run (synth.py) to --benchmark_out, and is ``--fake_scale``
times slower than the reference. Its noise is seeded by the output file's name, so every run
differs from the next, reproducibly. With FAKE_BENCH_LOG set it appends its --fake_label and
its arguments there, so a test can see the order of the runs and what they were given;
``--fake_busy=N`` then marks the rows of the first N runs as run beside a busy process."""
import json
import os
import re
import sys
import time
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import synth  # noqa: E402


def main(argv: list[str]) -> int:
    flags, passed = {}, []
    for arg in argv:
        name, _, value = arg.partition("=")
        if not name.startswith(("--benchmark_", "--fake_")):
            print(f"fake_bench: unrecognized command-line flag: {arg}", file=sys.stderr)
            return 2
        flags[name] = value
        if not name.startswith("--fake_"):
            passed.append(arg)
    if "--fake_sleep" in flags and os.environ.get("FAKE_BENCH_LOG") and \
            Path(os.environ["FAKE_BENCH_LOG"]).is_file() and \
            len(Path(os.environ["FAKE_BENCH_LOG"]).read_text().splitlines()) >= int(flags["--fake_sleep"]):
        time.sleep(60)  # from the N-th run on: a case that takes long, to be interrupted
    if "--fake_fail" in flags:
        print("fake_bench: failing as asked", file=sys.stderr)
        return 1
    out = flags.get("--benchmark_out")
    repetitions = int(flags.get("--benchmark_repetitions", "1"))
    seed = zlib.crc32(Path(out or "stdout").name.encode())
    doc = synth.synthetic_run(seed=seed, repetitions=repetitions, noise=0.01,
                              scale=float(flags.get("--fake_scale", "1")), everything=False)
    pattern = flags.get("--benchmark_filter")
    if pattern:
        doc["benchmarks"] = [r for r in doc["benchmarks"] if re.search(pattern, r["name"])]
    if flags.get("--benchmark_list_tests", "false") != "false":  # Google Benchmark's listing
        print("\n".join(r["name"] for r in doc["benchmarks"] if r["run_type"] == "iteration"))
        return 0
    log = os.environ.get("FAKE_BENCH_LOG")
    if "--fake_busy" in flags and log:  # the first N runs: another process kept a core busy
        runs = len(Path(log).read_text().splitlines()) if Path(log).is_file() else 0
        for row in doc["benchmarks"]:
            row["host_others"] = 0.9 if runs < int(flags["--fake_busy"]) else 0.0
    doc["context"]["fake_args"] = " ".join(passed)
    text = json.dumps(doc, indent=2)
    if out:
        Path(out).write_text(text)
    print(text)
    if os.environ.get("FAKE_BENCH_LOG"):
        with open(os.environ["FAKE_BENCH_LOG"], "a") as log:
            log.write(f"{flags.get('--fake_label', '?')} {' '.join(passed)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
