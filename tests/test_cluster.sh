#!/usr/bin/env bash
# The mpi executor across three hosts on this machine (ctest label cluster, release builds only):
# scripts/netns-cluster builds the hosts out of network namespaces, and inside them this script
# checks that the controller and the engines really are on three hosts, that eigen, pbkdf2 and
# wordfreq over TCP give sequential's values, that the recipe of docs/cluster.md (scripts/bench --hosts)
# runs the grid across them with links held to 100 Mbit/s and unshaped, and that an engine
# killed in the middle of a task fails that task by name and ends the run. Skips (77) where
# namespaces cannot be made (not root, no iproute2, a kernel or container that refuses them).
#
#   usage: test_cluster.sh ROOT CBENCH CBENCH_BENCH
set -euo pipefail

if [ "${1:-}" = --inside ]; then
  shift
  root=$1 cli=$2 bench=$3
  fail() { echo "test_cluster: FAIL: $*" >&2; exit 1; }
  values() { grep -v -e '^Elapsed time' -e '^CPU time'; }
  mapfile -t hosts_ns < "$CBENCH_CLUSTER/hosts.ns"
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/cbench-cluster-test.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  ranks=5  # the controller and 2 engines on each of the two other hosts
  # As scripts/bench --hosts runs it: slot by slot, rank 0 on the first host.
  across() { timeout -k 5 60 mpirun --hostfile "$CBENCH_HOSTS" -n "$ranks" --map-by slot \
               --bind-to none "$@"; }

  echo "== three hosts: rank 0 alone in the first namespace, two engines in each of the others"
  placement=$(across sh -c 'echo "$OMPI_COMM_WORLD_RANK $(readlink /proc/self/ns/net)"' | sort -n)
  own=$(readlink /proc/self/ns/net)
  [ "$(awk '$1 == 0 { print $2 }' <<<"$placement")" = "$own" ] || fail "rank 0 is not on the first host: $placement"
  [ "$(awk '{ print $2 }' <<<"$placement" | sort -u | wc -l)" = 3 ] || fail "not three hosts: $placement"
  [ "$(awk -v own="$own" '$2 == own' <<<"$placement" | wc -l)" = 1 ] || fail "an engine shares the controller's host: $placement"
  [ "$OMPI_MCA_btl" = self,tcp ] || fail "the transport is not TCP only (btl $OMPI_MCA_btl)"

  echo "== eigen, pbkdf2 and wordfreq across the hosts give sequential's values"
  # The controller's interface, as this namespace sees it: wordfreq's chunks (the corpus, 2.6 MB)
  # leave through it, or they did not cross the hosts' links at all.
  tx_bytes() { cat /sys/class/net/cbnet0/statistics/tx_bytes; }
  for run in "eigen --size 200" "pbkdf2 --iterations 20000" "wordfreq"; do
    read -r -a args <<<"$run"
    want=$(timeout 120 "$cli" run --workload "${args[@]}" | values)
    sent=$(tx_bytes)
    got=$(across "$cli" run --executor mpi --workload "${args[@]}" | values)
    sent=$(($(tx_bytes) - sent))
    [ "$got" = "$want" ] || fail "cbench run --workload $run across the hosts printed:"$'\n'"$got"$'\n'"sequential printed:"$'\n'"$want"
    if [ "${args[0]}" = wordfreq ] && [ "$sent" -lt 2000000 ]; then
      fail "wordfreq across the hosts sent $sent bytes out of the controller's host: its chunks did not cross the links"
    fi
    echo "   $run: $(wc -l <<<"$got") lines as sequential; $sent bytes out of the controller's host"
  done

  echo "== the recipe of docs/cluster.md: scripts/bench --hosts, links unshaped and at 100 Mbit/s"
  runs=$tmp/runs
  mkdir "$runs"
  # Granularity at 100 µs only: at 1 µs the sweep sends 80,000 tasks through TCP.
  CBENCH_BUILD_DIR=$(cd "$(dirname "$bench")/.." && pwd) timeout -k 5 150 \
    "$root/scripts/bench" --no-build --runs-dir "$runs" --preset quick --hosts "$CBENCH_HOSTS" \
    --links unshaped,100mbit -- --cbench_smoke --cbench_workers=4 --cbench_executors=sequential,mpi \
    --benchmark_filter='^((eigen|pbkdf2|wordfreq)/.*mode:map|granularity/.*task_us:100)' >"$runs/bench.log" 2>&1 ||
    { tail -30 "$runs/bench.log"; fail "scripts/bench --hosts failed"; }
  run_dir=$(ls -d "$runs"/*/)
  for link in unshaped 100mbit; do
    for w in eigen pbkdf2 wordfreq; do
      grep -q "\"name\": \"$w/executor:mpi/mode:map/workers:4/link:$link" "$run_dir/results.json" ||
        fail "no $w row of mpi at W = 4 with links $link in results.json"
    done
  done
  # A row whose results differ from sequential's fails (SkipWithError naming the task).
  if grep -q '"error_occurred": true' "$run_dir/results.json"; then
    grep -A2 '"error_occurred": true' "$run_dir/results.json" | head -20
    fail "a case failed across the hosts"
  fi
  [ -f "$run_dir/links.png" ] || { ls "$run_dir"; tail -5 "$runs/bench.log"; fail "the report has no links chart"; }

  echo "== an engine killed in the middle of a task: that task named, the run ended"
  out=$tmp/kill
  mkdir "$out"
  across "$cli" run --executor mpi --workload pbkdf2 --iterations 3000000 >"$out/stdout" 2>"$out/stderr" &
  run=$!
  # The victim: a rank on the second host (a child of its orted, not a fork server) that has
  # begun a task, seen by the CPU time it has used (a waiting engine uses next to none).
  victim=""
  deadline=$((SECONDS + 60))
  while [ -z "$victim" ] && [ $SECONDS -lt $deadline ] && kill -0 "$run" 2>/dev/null; do
    for pid in $(ip netns pids "${hosts_ns[1]}"); do
      parent=$(awk '{ print $4 }' "/proc/$pid/stat" 2>/dev/null) || continue
      [ "$(cat "/proc/$parent/comm" 2>/dev/null)" = orted ] || continue
      grep -q cbench "/proc/$pid/cmdline" 2>/dev/null || continue
      ticks=$(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null) || continue
      [ "$ticks" -ge 20 ] && { victim=$pid; break; }
    done
    [ -n "$victim" ] || sleep 0.1  # polling the condition: an engine under way
  done
  [ -n "$victim" ] || { kill "$run" 2>/dev/null; fail "no engine on the second host began a task within 60 s"; }
  kill -KILL "$victim"
  status=0
  wait "$run" || status=$?
  [ "$status" -ne 0 ] || fail "the run exited 0 after engine pid $victim was killed"
  [ "$status" -ne 124 ] || fail "the run did not end after engine pid $victim was killed (timed out)"
  line=$(grep -E "^cbench: mpi: .+: engine [0-9]+ \(pid $victim\) died while running it$" "$out/stderr") ||
    { cat "$out/stderr"; fail "no error naming the task of the killed engine (pid $victim)"; }
  echo "   exit $status; $line"
  echo "test_cluster: all passed inside the cluster"
  exit 0
fi

[ $# -eq 3 ] || { echo "usage: test_cluster.sh ROOT CBENCH CBENCH_BENCH" >&2; exit 2; }
root=$1
command -v mpirun >/dev/null || { echo "test_cluster: mpirun not found (scripts/setup installs openmpi-bin)" >&2; exit 1; }
# The cluster is removed by scripts/netns-cluster when its command ends, and on SIGTERM from
# the timeout. Its namespaces are the cbench<pid>-* that were not there before.
ours() { ip netns list 2>/dev/null | awk '{ print $1 }' | grep '^cbench[0-9]*-' | sort || true; }
before=$(ours)
status=0
# --delay asks for netem: where the kernel has none, the cluster says so and shapes bandwidth only.
timeout -k 15 240 "$root/scripts/netns-cluster" --engines 2 --delay 2ms -- "$0" --inside "$@" || status=$?
left=$(comm -13 <(printf '%s\n' "$before") <(ours) | tr '\n' ' ')
if [ -n "${left// /}" ]; then
  echo "test_cluster: FAIL: namespaces of the cluster left behind: $left" >&2
  exit 1
fi
case $status in
  0) echo "test_cluster: all passed; the namespaces, links and processes are gone" ;;
  77) echo "test_cluster: skipped: this machine cannot build namespace hosts (above)" ;;
  124) echo "test_cluster: FAIL: timed out" >&2 ;;
esac
exit "$status"
