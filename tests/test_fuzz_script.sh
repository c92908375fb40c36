#!/usr/bin/env bash
# scripts/fuzz's command line, without building anything: its targets are the committed corpora's
# folders, and a bad option, a bad number of seconds or an unknown target is one line and exit 2.
set -uo pipefail
root=$1
fuzz="$root/scripts/fuzz"
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

listed=$("$fuzz" --list) || fail "--list exited $?"
expected=$(cd "$root/fuzz/corpus" && ls -d -- */ | tr -d /)
[ "$listed" = "$expected" ] || fail "--list gave '$listed', not the corpora '$expected'"

expect_usage() {  # expect_usage TEXT ARGS...: exit 2, one line on stderr containing TEXT
  local text=$1; shift
  local err status
  err=$("$fuzz" "$@" 2>&1 >/dev/null); status=$?
  [ "$status" -eq 2 ] || fail "scripts/fuzz $* exited $status, not 2"
  [[ "$err" == *"$text"* ]] || fail "scripts/fuzz $*: '$err' does not say '$text'"
}
expect_usage "unknown option --nope" --nope
expect_usage "whole number of seconds" --seconds 0
expect_usage "whole number of seconds" --seconds=ten
expect_usage "--seconds needs a number" --seconds
expect_usage "no target 'nope'" nope

[ "$failures" -eq 0 ] && echo "scripts/fuzz: its options and targets as documented"
exit $((failures > 0))
