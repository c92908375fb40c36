#!/usr/bin/env bash
# The benchmark binary on a disk that fills mid-run (a 64 KiB tmpfs): it stops with exit 1 and
# one line naming the file it could not write (the journal, or its --benchmark_out JSON,
# whichever fills the disk first), every line left in the journal is whole JSON, and its own cut
# --benchmark_out file is gone. Skips (77) where a tmpfs cannot be mounted (not root, a
# container).
set -uo pipefail
bench=$1 python=$2
dir=$(mktemp -d "${TMPDIR:-/tmp}/cbench-full-disk.XXXXXX")
cleanup() { umount "$dir" 2>/dev/null; rmdir "$dir" 2>/dev/null; }
trap cleanup EXIT
if ! mount -t tmpfs -o size=64k tmpfs "$dir" 2>/dev/null; then
  echo "test_full_disk: cannot mount a tmpfs here (needs root): skipped"
  exit 77
fi
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

status=0
err=$("$bench" --cbench_smoke --cbench_host_limit=off --benchmark_min_time=0.001 \
        --benchmark_filter='^(count|double)/' --benchmark_out="$dir/results.json" \
        --benchmark_out_format=json 2>&1 >/dev/null) || status=$?
[ "$status" -eq 1 ] || fail "exit $status on a full disk, not 1"
line=$(grep -E "^cbench_bench: error: cannot write the (journal $dir/results.journal.jsonl: No space left on device|results $dir/results.json \(the disk may be full\))" <<<"$err")
[ -n "$line" ] || fail "no line naming the file it could not write: $(grep error <<<"$err")"
[ ! -e "$dir/results.json" ] || fail "the cut results.json was left"
"$python" - "$dir/results.journal.jsonl" <<'PY' || fail "the journal holds a line that is not whole JSON"
import json, sys
lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
assert lines[-1] == "", "the journal does not end with a whole line"
for line in lines[:-1]:
    json.loads(line)
print(f"test_full_disk: {len(lines) - 1} whole lines in the journal")
PY
[ "$failures" -eq 0 ] && echo "test_full_disk: ${line#cbench_bench: }"
exit $((failures > 0))
