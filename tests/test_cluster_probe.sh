#!/usr/bin/env bash
# scripts/netns-cluster on machines that cannot build the namespace hosts: it skips (exit 77),
# naming the step the machine refused, and leaves nothing it made behind.
#   - in a user namespace (root there, but without the host's CAP_SYS_ADMIN): `ip netns add`
#     cannot mount /run/netns;
#   - in a chroot whose / is no mount point (as a debootstrap chroot): `ip netns exec` cannot
#     make / a slave mount; ip had mounted /run/netns by then, and the script takes it down.
# Each case that this machine cannot set up (no user namespaces, not root) is left out, saying so.
set -uo pipefail
root=$1
failures=0 ran=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

check_skip() {  # check_skip WHAT STATUS OUTPUT
  local what=$1 status=$2 out=$3
  ran=$((ran + 1))
  [ "$status" -eq 77 ] || fail "$what: exit $status, not 77 (a skip): $out"
  [[ "$out" == *"cannot build namespace hosts: '"*"' failed ("* ]] ||
    fail "$what: the skip does not name the step that failed: $out"
}

if unshare --user --map-root-user true 2>/dev/null; then
  before=$(ls /run/netns 2>/dev/null)
  out=$(unshare --user --map-root-user "$root/scripts/netns-cluster" -- true 2>&1); status=$?
  check_skip "in a user namespace" "$status" "$out"
  [ "$(ls /run/netns 2>/dev/null)" = "$before" ] || fail "in a user namespace: /run/netns changed"
else
  echo "test_cluster_probe: this machine makes no user namespace: that case is left out"
fi

if [ "$(id -u)" = 0 ] && command -v chroot >/dev/null; then
  jail=$(mktemp -d "${TMPDIR:-/tmp}/cbench-probe-chroot.XXXXXX")
  mounted=()
  undo() {
    local i
    for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount "${mounted[$i]}" 2>/dev/null; done
    rm -rf "$jail"
  }
  trap undo EXIT
  bind() { mkdir -p "$jail/$2" && mount --bind "$1" "$jail/$2" && mounted+=("$jail/$2"); }
  ok=1
  for d in usr etc proc sys dev; do bind "/$d" "$d" || ok=0; done
  for d in run tmp; do
    mkdir -p "$jail/$d" && mount -t tmpfs tmpfs "$jail/$d" && mounted+=("$jail/$d") || ok=0
  done
  bind "$root" project || ok=0
  for l in bin lib lib64 sbin; do [ -e "/$l" ] && ln -s "usr/$l" "$jail/$l"; done
  if [ "$ok" = 1 ]; then
    out=$(chroot "$jail" /bin/bash -c 'cd /project && scripts/netns-cluster -- true' 2>&1)
    status=$?
    check_skip "in a chroot" "$status" "$out"
    if mountpoint -q "$jail/run/netns" 2>/dev/null; then
      fail "in a chroot: /run/netns was left mounted"
      umount "$jail/run/netns"
    fi
  else
    echo "test_cluster_probe: could not set up a chroot here: that case is left out"
  fi
  undo
  trap - EXIT
else
  echo "test_cluster_probe: not root: the chroot case is left out"
fi

[ "$ran" -gt 0 ] || { echo "test_cluster_probe: no case could be set up here"; exit 77; }
[ "$failures" -eq 0 ] && echo "test_cluster_probe: $ran case(s) skipped cleanly, naming the step"
exit $((failures > 0))
