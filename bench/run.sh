#!/usr/bin/env bash
# run.sh: run roster's benchmarks against private rosterd nodes and print one report.
#
#   bench/run.sh [BIN_DIR]        (default build/bin; `make bench` builds, then runs this)
#
# Environment:
#   BENCH_QUICK=1        counts / 10: a smoke run of a few seconds
#   BENCH_NOPIN=1        pin nothing (by default rosterd is pinned to CPU 0 and each
#                        figure places its client on rosterd's CPU or on the other one)
#   BENCH_RESULTS_OUT=F  also keep the raw "key value" results in F
#
# Figures 1-6 run against one node; figure 7 (memory) against a fresh node, so that memory
# freed by earlier figures cannot be reused and hide the cost. Each node listens on a socket
# in a private mktemp -d directory, is waited for with a deadline (a real connect + ping) and
# is stopped by its pid (SIGTERM, then SIGKILL after a deadline) on every exit path.
# Benchmarks report numbers; they fail (non-zero) only when an operation fails.
set -uo pipefail

BIN=${1:-build/bin}
if ! BIN=$(cd "$BIN" 2>/dev/null && pwd); then
    echo "run.sh: no such directory: ${1:-build/bin}" >&2
    exit 2
fi
PROGS=(bench_socket bench_register bench_lookup bench_groups bench_cleanup)
for p in rosterd bench_tool "${PROGS[@]}" bench_memory; do
    if [ ! -x "$BIN/$p" ]; then
        echo "run.sh: missing $BIN/$p (build first: make build)" >&2
        exit 2
    fi
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/roster-bench.XXXXXX")
DPID=""
DLOG=""

# alive PID: the process exists and is not a zombie.
alive() {
    local pid=$1 state rest
    [ -r "/proc/$pid/stat" ] || return 1
    read -r _ _ state rest <"/proc/$pid/stat" 2>/dev/null || return 1
    [ "$state" != Z ]
}

stop_daemon() {
    [ -n "$DPID" ] || return 0
    kill -TERM "$DPID" 2>/dev/null
    local deadline=$((SECONDS + 10))
    while alive "$DPID" && [ $SECONDS -lt $deadline ]; do
        sleep 0.05
    done
    if alive "$DPID"; then
        echo "run.sh: rosterd $DPID ignored SIGTERM for 10 s; SIGKILL" >&2
        kill -KILL "$DPID" 2>/dev/null
    fi
    wait "$DPID" 2>/dev/null
    DPID=""
}

on_exit() {
    stop_daemon
    if [ -n "${BENCH_RESULTS_OUT:-}" ] && [ -f "$WORK/results" ]; then
        cp "$WORK/results" "$BENCH_RESULTS_OUT"
    fi
    rm -rf "$WORK"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Placement: rosterd on CPU 0 when there are 2+ CPUs and taskset exists.
PIN=()
unset BENCH_DAEMON_CPU
if [ -z "${BENCH_NOPIN:-}" ] && [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
    PIN=(taskset -c 0)
    export BENCH_DAEMON_CPU=0
fi

# Limits: the defaults (4 Mi names per client, 4,096 connections) hold every figure. The
# unread-event queue is raised from 8 MiB as a margin: the cleanup figure's observer receives
# 100,000 UNREGISTERED events in one burst, and on a loaded machine it may fall behind (the
# default was enough in our runs, and the figure measured the same with either).
DFLAGS=(--log-level warn --queue-bytes $((256 * 1024 * 1024)))

start_daemon() {
    local tag=$1
    local sock="$WORK/roster-$tag.sock"
    DLOG="$WORK/rosterd-$tag.log"
    # exec'd by taskset (same pid), so $! is rosterd's pid
    "${PIN[@]}" "$BIN/rosterd" --socket "$sock" "${DFLAGS[@]}" >"$DLOG" 2>&1 &
    DPID=$!
    if ! "$BIN/bench_tool" ready "$sock" "$DPID" 10000; then
        echo "run.sh: rosterd did not come up; its log:" >&2
        sed 's/^/  | /' "$DLOG" >&2
        exit 1
    fi
    export ROSTER_SOCKET="$sock" ROSTERD_PID="$DPID"
}

FAILED=()
run_prog() {
    local p=$1
    if ! "$BIN/$p"; then
        FAILED+=("$p")
        echo "   !! $p FAILED (operation error; see above)"
    fi
    if ! alive "$DPID"; then
        echo "   !! rosterd $DPID died during $p; its log:"
        tail -n 20 "$DLOG" | sed 's/^/  | /'
        wait "$DPID" 2>/dev/null
        DPID=""
        FAILED+=("rosterd during $p")
        start_daemon "restart-$p"
    fi
}

export BENCH_RESULTS="$WORK/results"
: >"$BENCH_RESULTS"

cpu=$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')
echo "roster benchmarks — $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "   machine: $cpu, $(nproc) CPUs, kernel $(uname -r), $(gcc --version 2>/dev/null | head -n1)"
echo "   load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews every figure)"
echo "   binaries: $BIN; placement: $([ ${#PIN[@]} -gt 0 ] && echo 'rosterd pinned to CPU 0' || echo 'unpinned')${BENCH_QUICK:+; BENCH_QUICK=$BENCH_QUICK}"
START=$SECONDS

start_daemon main
echo "   rosterd pid $DPID, socket $ROSTER_SOCKET"
for p in "${PROGS[@]}"; do
    run_prog "$p"
done
stop_daemon

start_daemon memory
echo
echo "   (fresh rosterd pid $DPID for the memory figure)"
run_prog bench_memory
stop_daemon

"$BIN/bench_tool" report "$BENCH_RESULTS"
echo
echo "   total time $((SECONDS - START)) s"
if [ ${#FAILED[@]} -gt 0 ]; then
    echo "FAILED: ${FAILED[*]}"
    exit 1
fi
exit 0
