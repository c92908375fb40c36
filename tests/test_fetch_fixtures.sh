#!/usr/bin/env bash
# scripts/fetch-fixtures against a local mirror: a faithful mirror installs and verifies; a mirror
# with one altered book fails with a message naming that book and leaves nothing installed.
set -euo pipefail
root=$1
fetch="$root/scripts/fetch-fixtures"
work=$(mktemp -d "${TMPDIR:-/tmp}/cbench-fetch-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }

# A mirror made from the manifest: the real corpus when the tests have it, else skip the good case.
if [ -n "${CBENCH_FIXTURES:-}" ] && [ -d "$CBENCH_FIXTURES/books" ]; then
  cp -r "$CBENCH_FIXTURES" "$work/good"
  chmod -R u+w "$work/good"
  "$fetch" --mirror "$work/good" --dest "$work/out-good" >"$work/good.log" 2>&1 ||
    fail "a faithful mirror was rejected: $(cat "$work/good.log")"
  [ -f "$work/out-good/books/Metamorphosis.txt" ] || fail "the fetched corpus is incomplete"
  cp -r "$work/good" "$work/bad"
else
  echo "CBENCH_FIXTURES is not set: checking only the failure path, on a fabricated mirror"
  mkdir -p "$work/bad/books" "$work/bad/stop-words"
  while IFS=$'\t' read -r rel _ _ _; do
    case "$rel" in ''|'#'*) continue ;; esac
    printf 'not the real file\n' >"$work/bad/$rel"
  done <"$root/fixtures/manifest.tsv"
fi

# Alter one book by one byte.
printf 'x' >>"$work/bad/books/Metamorphosis.txt"
if "$fetch" --mirror "$work/bad" --dest "$work/out-bad" >"$work/bad.log" 2>&1; then
  fail "an altered file was accepted"
fi
grep -q "checksum mismatch for books/" "$work/bad.log" || fail "no checksum message: $(cat "$work/bad.log")"
if [ -n "${CBENCH_FIXTURES:-}" ]; then
  grep -q "books/Metamorphosis.txt" "$work/bad.log" || fail "the message does not name the file"
fi
[ ! -e "$work/out-bad" ] || fail "a failed fetch left files behind"

# Bad flags exit 2.
set +e
"$fetch" --no-such-flag >/dev/null 2>&1; rc=$?
set -e
[ "$rc" -eq 2 ] || fail "an unknown flag exited $rc, not 2"
echo "fetch-fixtures: checksum failure detected and nothing installed"
