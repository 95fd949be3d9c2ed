#!/usr/bin/env bash
# run_msg.sh: the messaging figures (bench_msg) and the NATS reference (bench_nats), side by
# side. Called by bench/run.sh (`make bench`); runs alone too:
#
#   bench/run_msg.sh [BIN_DIR]        (default build/bin)
#
# Environment (as run.sh): BENCH_QUICK=1 (counts / 10), BENCH_NOPIN=1 (pin nothing),
# BENCH_RESULTS=F (append the "key value" results to F; default a private file),
# BENCH_NO_NATS=1 (skip the NATS reference).
#
# 1. one rosterd on a socket in a private mktemp -d directory, pinned to CPU 0:
#    `bench_msg single` (floor, senders -> receiver, calls, publish fan-out);
# 2. two rosterd nodes a and b (b joins a) on 127.0.0.1, ports chosen from the pid, one cookie
#    file, a pinned to CPU 0 and b to CPU 1: `bench_msg cross`;
# 3. NATS: nats-server and libnats-dev are Debian packages that the project's build does not
#    need; when missing they are installed here if we are root and apt-get works, else this
#    part is skipped with a message. bench/bench_nats.c is built here with `cc ... -lnats`
#    (CMake builds only a stub of it). One nats-server on 127.0.0.1 with a random port (-p -1,
#    read back from its log), pinned to CPU 0: `bench_nats single`; then two clustered
#    servers (a on CPU 0, b on CPU 1, b routes to a): `bench_nats cross`;
# 4. `bench_msg report`: the summary table.
# Every server is waited for with a deadline and stopped by its pid (SIGTERM, then SIGKILL
# after 10 s) on every exit path. Only loopback addresses are used.
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/.." && pwd)
BIN=${1:-build/bin}
if ! BIN=$(cd "$BIN" 2>/dev/null && pwd); then
    echo "run_msg.sh: no such directory: ${1:-build/bin}" >&2
    exit 2
fi
for p in rosterd bench_tool bench_msg; do
    if [ ! -x "$BIN/$p" ]; then
        echo "run_msg.sh: missing $BIN/$p (build first: make build)" >&2
        exit 2
    fi
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/roster-msgbench.XXXXXX")
PIDS=()

alive() {
    local pid=$1 state rest
    [ -r "/proc/$pid/stat" ] || return 1
    read -r _ _ state rest <"/proc/$pid/stat" 2>/dev/null || return 1
    [ "$state" != Z ]
}

# stop_pid PID: SIGTERM, poll until it has exited (10 s deadline), then SIGKILL; reap it.
stop_pid() {
    local pid=$1
    kill -TERM "$pid" 2>/dev/null
    local deadline=$((SECONDS + 10))
    while alive "$pid" && [ $SECONDS -lt $deadline ]; do
        sleep 0.05
    done
    if alive "$pid"; then
        echo "run_msg.sh: $pid ignored SIGTERM for 10 s; SIGKILL" >&2
        kill -KILL "$pid" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null
}

stop_all() {
    local pid
    for pid in "${PIDS[@]}"; do
        stop_pid "$pid"
    done
    PIDS=()
}

on_exit() {
    stop_all
    rm -rf "$WORK"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ -z "${BENCH_RESULTS:-}" ]; then
    export BENCH_RESULTS="$WORK/results"
    : >"$BENCH_RESULTS"
fi

# Placement (docs/PERFORMANCE.md, "Placement"): servers on fixed CPUs, clients per figure.
PIN0=() PIN1=()
unset BENCH_DAEMON_CPU
if [ -z "${BENCH_NOPIN:-}" ] && [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
    PIN0=(taskset -c 0)
    PIN1=(taskset -c 1)
    export BENCH_DAEMON_CPU=0
fi

FAILED=()
START=$SECONDS
DFLAGS=(--log-level warn)
PORT=$((21000 + ($$ % 1500) * 8)) # the host's loopback: stay clear of fixed ports

# wait_node SOCK PID LOG [MESH]: the node answers a ping (and lists MESH nodes up), or exit.
wait_node() {
    local sock=$1 pid=$2 log=$3 mesh=${4:-}
    if ! "$BIN/bench_tool" ready "$sock" "$pid" 10000 ||
        { [ -n "$mesh" ] && ! "$BIN/bench_tool" mesh "$sock" "$mesh" 20000; }; then
        echo "run_msg.sh: rosterd did not come up; its log:" >&2
        sed 's/^/  | /' "$log" >&2
        exit 1
    fi
}

check_alive() {
    local pid=$1 log=$2 what=$3
    if ! alive "$pid"; then
        echo "   !! $what (pid $pid) died; its log:"
        tail -n 20 "$log" | sed 's/^/  | /'
        FAILED+=("$what")
    fi
}

echo
echo "   messaging: bench_msg against private rosterd nodes; NATS reference beside it"

# --- 1. one node ---------------------------------------------------------------------------
SOCK="$WORK/msg.sock"
"${PIN0[@]}" "$BIN/rosterd" --socket "$SOCK" "${DFLAGS[@]}" >"$WORK/msg.log" 2>&1 &
DPID=$!
PIDS+=("$DPID")
wait_node "$SOCK" "$DPID" "$WORK/msg.log"
echo "   rosterd pid $DPID (CPU 0), socket $SOCK, defaults (--mailbox-bytes etc.) but --log-level warn"
if ! ROSTER_SOCKET="$SOCK" ROSTERD_PID="$DPID" "$BIN/bench_msg" single; then
    FAILED+=("bench_msg single")
fi
check_alive "$DPID" "$WORK/msg.log" "rosterd during bench_msg single"
stop_all

# --- 2. two nodes --------------------------------------------------------------------------
COOKIE="$WORK/cookie"
(umask 077 && head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$COOKIE")
SA="$WORK/a.sock" SB="$WORK/b.sock"
"${PIN0[@]}" "$BIN/rosterd" --name a --socket "$SA" --listen "127.0.0.1:$((PORT + 1))" \
    --cookie-file "$COOKIE" "${DFLAGS[@]}" >"$WORK/a.log" 2>&1 &
PA=$!
PIDS+=("$PA")
"${PIN1[@]}" "$BIN/rosterd" --name b --socket "$SB" --listen "127.0.0.1:$((PORT + 2))" \
    --join "127.0.0.1:$((PORT + 1))" --cookie-file "$COOKIE" "${DFLAGS[@]}" >"$WORK/b.log" 2>&1 &
PB=$!
PIDS+=("$PB")
wait_node "$SA" "$PA" "$WORK/a.log" 2
wait_node "$SB" "$PB" "$WORK/b.log" 2
echo
echo "   cluster: rosterd a (pid $PA, CPU 0) and b (pid $PB, CPU 1, --join a) on 127.0.0.1:$((PORT + 1))/$((PORT + 2))"
if ! BENCH_MSG_SOCK_A="$SA" BENCH_MSG_SOCK_B="$SB" "$BIN/bench_msg" cross; then
    FAILED+=("bench_msg cross")
fi
check_alive "$PA" "$WORK/a.log" "rosterd a during bench_msg cross"
check_alive "$PB" "$WORK/b.log" "rosterd b during bench_msg cross"
stop_all

# --- 3. NATS -------------------------------------------------------------------------------
have_nats() { command -v nats-server >/dev/null && [ -f /usr/include/nats/nats.h ]; }

# start_nats TAG CPU-PIN... -- ARGS: starts nats-server, waits until its log names the client
# port; sets NPORT (client) and NRPORT (route, if any).
start_nats() {
    local tag=$1 log="$WORK/nats-$1.log" pid i
    shift
    local pin=()
    while [ "$1" != -- ]; do
        pin+=("$1")
        shift
    done
    shift
    "${pin[@]}" nats-server -a 127.0.0.1 -p -1 "$@" >"$log" 2>&1 &
    pid=$!
    PIDS+=("$pid")
    NPORT="" NRPORT=""
    for i in $(seq 1 200); do
        NPORT=$(sed -n 's/.*Listening for client connections on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$log" | head -n1)
        NRPORT=$(sed -n 's/.*Listening for route connections on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$log" | head -n1)
        if [ -n "$NPORT" ] && grep -q "Server is ready" "$log" &&
            { [ -n "$NRPORT" ] || [[ " $* " != *" --cluster "* ]]; }; then
            return 0
        fi
        alive "$pid" || break
        sleep 0.05
    done
    echo "run_msg.sh: nats-server did not come up; its log:" >&2
    sed 's/^/  | /' "$log" >&2
    return 1
}

echo
if [ -n "${BENCH_NO_NATS:-}" ]; then
    echo "   NATS reference skipped (BENCH_NO_NATS=1)"
else
    if ! have_nats && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "   installing nats-server and libnats-dev (Debian) for the NATS reference..."
        export DEBIAN_FRONTEND=noninteractive
        apt-get install -y -qq nats-server libnats-dev >"$WORK/apt.log" 2>&1 ||
            { apt-get update -qq >>"$WORK/apt.log" 2>&1 &&
                apt-get install -y -qq nats-server libnats-dev >>"$WORK/apt.log" 2>&1; }
    fi
    if ! have_nats; then
        echo "   NATS reference SKIPPED: nats-server or libnats-dev missing and could not be installed"
        echo "   (as root: apt-get install nats-server libnats-dev; inside run.sh's private network"
        echo "   namespace apt-get cannot reach the archive: install first, or run bench/run_msg.sh)"
    elif ! cc -std=c11 -O2 -D_GNU_SOURCE -I"$SRC/include" -I"$HERE" \
        "$HERE/bench_nats.c" -o "$WORK/bench_nats" -lnats >"$WORK/cc.log" 2>&1; then
        echo "   NATS reference SKIPPED: bench_nats.c did not build against libnats:"
        sed 's/^/  | /' "$WORK/cc.log"
        FAILED+=("bench_nats build")
    else
        export BENCH_NATS_SERVER_VERSION="$(nats-server --version 2>&1 | head -n1)"
        echo "   NATS: $BENCH_NATS_SERVER_VERSION, default configuration, on 127.0.0.1 (random ports), pinned like rosterd"
        if start_nats single "${PIN0[@]}" --; then
            "$WORK/bench_nats" single "nats://127.0.0.1:$NPORT" || FAILED+=("bench_nats single")
        else
            FAILED+=("nats-server single")
        fi
        stop_all
        if start_nats a "${PIN0[@]}" -- --cluster_name bench --cluster "nats://127.0.0.1:-1"; then
            NA=$NPORT RA=$NRPORT
            if start_nats b "${PIN1[@]}" -- --cluster_name bench --cluster "nats://127.0.0.1:-1" \
                --routes "nats://127.0.0.1:$RA"; then
                NB=$NPORT
                # wait for the route (both logs say so), with a deadline
                for i in $(seq 1 100); do
                    grep -q "Route connection created" "$WORK/nats-b.log" && break
                    sleep 0.05
                done
                "$WORK/bench_nats" cross "nats://127.0.0.1:$NA" "nats://127.0.0.1:$NB" ||
                    FAILED+=("bench_nats cross")
            else
                FAILED+=("nats-server b")
            fi
        else
            FAILED+=("nats-server a")
        fi
        stop_all
    fi
fi

# --- 4. report -----------------------------------------------------------------------------
"$BIN/bench_msg" report
echo "   messaging part: $((SECONDS - START)) s"
if [ ${#FAILED[@]} -gt 0 ]; then
    echo "FAILED (messaging): ${FAILED[*]}"
    exit 1
fi
exit 0
