#!/usr/bin/env bash
# run_shm_register.sh: the cost of shared-memory publishing on registration (issue 10,
# item 4's "registration throughput at most 10% lower than without publishing"), measured
# the way docs/PERFORMANCE.md figure 8 reports it: rosterd's CPU time per pipelined
# register, on a fresh node per run, node pinned to CPU 0 and the client to CPU 1, the
# kinds of node alternating inside each round so that a shared, loaded machine weighs on
# both alike.
#
#   bench/run_shm_register.sh [BIN_DIR] [COUNTS] [ROUNDS]
#     BIN_DIR  default build/bin
#     COUNTS   names registered per run, comma-separated (default 200000,1000000)
#     ROUNDS   default 3
#   BENCH_PREFILL=1: before the timed pipelined registers, the same number of names of the
#   same size are registered one by one and unregistered (bench_shm's sync part, untimed
#   here), so the timed names reuse freed memory: the cost without first-touch page faults
#   (a node that held as many names before), beside the fresh node's.
#   BENCH_KINDS="label:BIN_DIR:flags ..." replaces the two kinds (default node,
#   --no-shm node), e.g. to set an older build beside this one:
#     BENCH_KINDS="main:/tmp/main/bin: branch:build/bin: noshm:build/bin:--no-shm"
#
# Prints each run's rosterd µs per register, then per count and kind the median, and the
# cost of publishing (each kind's median over the median of the kind labelled noshm),
# with the load average before and after. Every node is waited for with a
# deadline and stopped by its pid on every exit path.
set -uo pipefail

BIN=${1:-build/bin}
COUNTS=${2:-200000,1000000}
ROUNDS=${3:-3}
if ! BIN=$(cd "$BIN" 2>/dev/null && pwd); then
    echo "run_shm_register.sh: no such directory: ${1:-build/bin}" >&2
    exit 2
fi
KINDS=${BENCH_KINDS:-"default:$BIN: noshm:$BIN:--no-shm"}
[ "$(nproc)" -ge 2 ] || echo "run_shm_register.sh: one CPU: node and client share it" >&2

DIR=$(mktemp -d)
PID=
cleanup() {
    if [ -n "$PID" ]; then
        kill "$PID" 2>/dev/null
        for _ in $(seq 100); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$PID" 2>/dev/null
        wait "$PID" 2>/dev/null
        PID=
    fi
}
trap 'cleanup; rm -rf "$DIR"' EXIT

# one_run BIN FLAGS COUNT: rosterd µs per register of one fresh node
one_run() {
    local bin=$1 flags=$2 n=$3 sock=$DIR/r.sock
    rm -f "$sock"
    # shellcheck disable=SC2086
    taskset -c 0 "$bin/rosterd" --socket "$sock" --log-level warn $flags &
    PID=$!
    if ! "$bin/bench_tool" ready "$sock" "$PID" 10000 >/dev/null; then
        echo "run_shm_register.sh: node did not come up" >&2
        exit 1
    fi
    local out
    out=$(BENCH_DAEMON_CPU=0 ROSTER_SOCKET=$sock ROSTERD_PID=$PID BENCH_RESULTS=$DIR/res \
        "$bin/bench_shm" register x "$n" "$([ -n "${BENCH_PREFILL:-}" ] && echo "$n" || echo 0)") || {
        echo "run_shm_register.sh: bench_shm failed" >&2
        exit 1
    }
    cleanup
    echo "$out" | awk '/CPU time per op/ { print $6 }'
}

median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
declare -A RES MED
for n in ${COUNTS//,/ }; do
    for r in $(seq "$ROUNDS"); do
        for k in $KINDS; do
            label=${k%%:*}
            rest=${k#*:}
            bin=${rest%%:*}
            flags=${rest#*:}
            [ "$flags" = "$rest" ] && flags=
            v=$(one_run "$bin" "$flags" "$n")
            RES[$n:$label]="${RES[$n:$label]:-} $v"
            echo "count $n round $r $label: rosterd $v µs/register (load $(cut -d' ' -f1 /proc/loadavg))"
        done
    done
done
for n in ${COUNTS//,/ }; do
    base=
    for k in $KINDS; do
        label=${k%%:*}
        m=$(echo "${RES[$n:$label]}" | median)
        MED[$n:$label]=$m
        echo "count $n $label: runs${RES[$n:$label]}, median $m µs"
        [ "$label" = noshm ] && base=$m
    done
    [ -n "$base" ] || continue
    for k in $KINDS; do
        label=${k%%:*}
        [ "$label" = noshm ] && continue
        awk -v a="${MED[$n:$label]}" -v b="$base" -v n="$n" -v l="$label" \
            'BEGIN { printf "count %s: publishing costs %+.0f%% (%s over noshm)\n", n, (a / b - 1) * 100, l }'
    done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
