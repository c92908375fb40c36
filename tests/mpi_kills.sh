#!/usr/bin/env bash
# Engines of mpirun's killed at random points: each round starts
# `mpirun -n 3 cbench run --executor mpi --workload pbkdf2`, waits until both engines have begun
# working (their watch connections are up by then), waits a random 0-1.5 s more, and kills one of
# the two engines, chosen at random, with SIGKILL. In every other round, at random, the controller
# (rank 0) gets the SIGTERM by which mpirun ends a job first, and the engine is killed after it:
# the order mpirun's own handling may take. The run must end with a non-zero status and name the
# killed engine by its pid on standard error, with the task it held or "holding no task". A round
# whose run ended before its kill is run again. No process of a round may outlive it.
#
#   usage: mpi_kills.sh CBENCH ROUNDS [SEED]
set -euo pipefail
[ $# -ge 2 ] && [ $# -le 3 ] || { echo "usage: mpi_kills.sh CBENCH ROUNDS [SEED]" >&2; exit 2; }
cli=$1 rounds=$2
RANDOM=${3:-$$}
command -v mpirun >/dev/null || { echo "mpi_kills: mpirun not found (scripts/setup installs openmpi-bin)" >&2; exit 1; }
if [ "$(id -u)" = 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
fail() { echo "mpi_kills: FAIL: $*" >&2; exit 1; }
tmp=$(mktemp -d)
run=""
finish() { [ -z "$run" ] || kill -KILL "$run" 2>/dev/null || true; rm -rf "$tmp"; }
trap finish EXIT

# The processes carrying this round's marker in their environment, and the rank of each (empty
# for mpirun itself; a rank's own children, its fork server, have "-" after their parent's).
marked() {
  local environ pid parent rank
  for environ in /proc/[0-9]*/environ; do
    grep -qs "CBENCH_MPI_KILLS_MARKER=$1" "$environ" || continue
    pid=${environ#/proc/}
    pid=${pid%/environ}
    rank=$(tr '\0' '\n' <"$environ" 2>/dev/null | sed -n 's/^OMPI_COMM_WORLD_RANK=//p')
    parent=$(awk '{ print $4 }' "/proc/$pid/stat" 2>/dev/null) || continue
    case $(cat "/proc/$parent/comm" 2>/dev/null) in mpirun | orterun | orted) ;; *) rank=${rank:+$rank-} ;; esac
    echo "$pid $rank"
  done
}
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }

done_rounds=0 tries=0 named_task=0 named_idle=0
while [ "$done_rounds" -lt "$rounds" ]; do
  tries=$((tries + 1))
  [ "$tries" -le $((rounds * 3)) ] || fail "$tries tries for $rounds rounds: runs keep ending before their kill"
  marker="cbench-mpi-kills-$$-$tries"
  env CBENCH_MPI_KILLS_MARKER="$marker" timeout 120 \
    mpirun -n 3 --oversubscribe --bind-to none "$cli" run --executor mpi --workload pbkdf2 \
    --iterations 1000000 >"$tmp/stdout" 2>"$tmp/stderr" &
  run=$!
  # Both engines at work: each has used CPU time.
  engines=()
  deadline=$((SECONDS + 60))
  while [ ${#engines[@]} -lt 2 ] && [ $SECONDS -lt $deadline ] && kill -0 "$run" 2>/dev/null; do
    engines=()
    while read -r pid rank; do
      [ "$rank" = 1 ] || [ "$rank" = 2 ] || continue
      [ "$(cpu_ticks "$pid")" -ge 1 ] && engines+=("$pid")
    done < <(marked "$marker")
    [ ${#engines[@]} -ge 2 ] || sleep 0.05  # polling the condition: both engines under way
  done
  [ ${#engines[@]} -ge 2 ] || { cat "$tmp/stderr" >&2; fail "round $tries: the engines did not start within 60 s"; }
  delay_ms=$((RANDOM % 1500))
  sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"  # the random point
  victim=${engines[$((RANDOM % 2))]}
  order="engine killed"
  if [ $((RANDOM % 2)) = 1 ]; then
    controller=$(marked "$marker" | awk '$2 == 0 { print $1 }')
    if [ -n "$controller" ] && kill -TERM "$controller" 2>/dev/null; then
      order="controller's SIGTERM, then engine killed"
    fi
  fi
  if ! kill -KILL "$victim" 2>/dev/null; then
    wait "$run" || true
    run=""
    continue  # the run ended first: not a round
  fi
  status=0
  wait "$run" || status=$?
  run=""
  if [ "$status" -eq 0 ] && ! grep -q "pid $victim" "$tmp/stderr"; then
    continue  # killed as the run ended, after its last reply: not a round
  fi
  [ "$status" -ne 0 ] || { cat "$tmp/stderr" >&2; fail "round $tries: exit 0 after engine pid $victim was killed"; }
  [ "$status" -ne 124 ] || { cat "$tmp/stderr" >&2; fail "round $tries: the run did not end after engine pid $victim was killed"; }
  if line=$(grep -E "^cbench: mpi: .+: engine [0-9]+ \(pid $victim\) died while running it$" "$tmp/stderr"); then
    named_task=$((named_task + 1))
  elif line=$(grep -E "^cbench: mpi: engine [0-9]+ \(pid $victim\) died, holding no task$" "$tmp/stderr"); then
    named_idle=$((named_idle + 1))
  else
    cat "$tmp/stderr" >&2
    fail "round $tries ($order): no line naming the killed engine (pid $victim) after ${delay_ms} ms; exit $status"
  fi
  sleep 0.2  # mpirun's last processes reaped
  left=$(marked "$marker" | awk '{ print $1 }' | tr '\n' ' ')
  [ -z "${left// /}" ] || fail "round $tries: processes $left outlived the run"
  done_rounds=$((done_rounds + 1))
  echo "round $done_rounds: $order (pid $victim) after ${delay_ms} ms; exit $status; $line"
done
echo "mpi_kills: $rounds rounds of $tries runs: $named_task named the task, $named_idle an engine holding none"
