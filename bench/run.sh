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
#   BENCH_PART=P         single (figures 1-7), cluster (C1-C7) or all (the default)
#   BENCH_NO_NETNS=1     run the cluster in the host's network namespace (no heal figure)
#   BENCH_CL_LINKS="L.." the peer links of the first cluster's figures (C1-C4), run once
#                        each in this order: sealed (the default: cookie handshake, sealed
#                        records) and/or tls (--peer-tls-* with a throwaway CA made here by
#                        the openssl command) and/or unsealed (the rosterd of
#                        BENCH_UNSEALED_BIN, a build with -DROSTER_BENCH_UNSEALED=ON: links
#                        in the clear, the reference point); e.g. "sealed tls tls sealed"
#   BENCH_CL_MAIN_ONLY=1 only C1-C4 (skip the purge, heal and memory clusters)
#
# Figures 1-6 run against one node; figure 7 (memory) against a fresh node, so that memory
# freed by earlier figures cannot be reused and hide the cost. Each node listens on a socket
# in a private mktemp -d directory, is waited for with a deadline (a real connect + ping) and
# is stopped by its pid (SIGTERM, then SIGKILL after a deadline) on every exit path.
#
# The cluster figures (bench_cluster) run on 3 nodes a, b, c listening on 127.0.0.1/2/3 with
# distinct ports and one cookie file in the same mktemp directory; each group of figures gets
# a fresh cluster (C1-C4; each C5 round, since it kills node a; C6; C7), waited for with
# deadlines (every node answers a ping, then lists 3 nodes up). So that the heal figure (C6)
# can make a real partition with nftables without touching the host's firewall, the whole
# script re-executes itself, as root, inside a private network namespace (unshare --net)
# whose loopback it brings up; the rules it adds die with the namespace. Without one
# (not root, no unshare), the cluster runs on the host's loopback and C6 is skipped.
# Benchmarks report numbers; they fail (non-zero) only when an operation fails.
set -uo pipefail

PART=${BENCH_PART:-all}
case $PART in single | cluster | all) ;; *)
    echo "run.sh: BENCH_PART must be single, cluster or all" >&2
    exit 2
    ;;
esac

# A private network namespace for the cluster figures (same pid: unshare execs bash).
if [ "$PART" != single ] && [ -z "${BENCH_IN_NETNS:-}" ] && [ -z "${BENCH_NO_NETNS:-}" ] &&
    [ "$(id -u)" = 0 ] && command -v unshare >/dev/null && command -v ip >/dev/null &&
    unshare --net true 2>/dev/null; then
    exec env BENCH_IN_NETNS=1 unshare --net bash "$0" "$@"
fi
CL_NETNS=0
if [ -n "${BENCH_IN_NETNS:-}" ]; then
    if ip link set lo up 2>/dev/null; then
        CL_NETNS=1
    else
        echo "run.sh: cannot bring lo up in the private network namespace" >&2
        exit 1
    fi
fi

BIN=${1:-build/bin}
if ! BIN=$(cd "$BIN" 2>/dev/null && pwd); then
    echo "run.sh: no such directory: ${1:-build/bin}" >&2
    exit 2
fi
PROGS=(bench_socket bench_register bench_lookup bench_groups bench_cleanup bench_shm)
for p in rosterd bench_tool "${PROGS[@]}" bench_memory bench_cluster bench_linkcrypto; do
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

# stop_pid PID: SIGTERM, poll until it has exited (10 s deadline), then SIGKILL; reap it.
stop_pid() {
    local pid=$1
    kill -TERM "$pid" 2>/dev/null
    local deadline=$((SECONDS + 10))
    while alive "$pid" && [ $SECONDS -lt $deadline ]; do
        sleep 0.05
    done
    if alive "$pid"; then
        echo "run.sh: rosterd $pid ignored SIGTERM for 10 s; SIGKILL" >&2
        kill -KILL "$pid" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null
}

stop_daemon() {
    [ -n "$DPID" ] || return 0
    stop_pid "$DPID"
    DPID=""
}

CL_PIDS=()
stop_cluster() {
    local pid
    for pid in "${CL_PIDS[@]}"; do
        stop_pid "$pid"
    done
    CL_PIDS=()
}

on_exit() {
    stop_daemon
    stop_cluster
    if [ "$CL_NETNS" = 1 ] && command -v nft >/dev/null; then
        nft delete table inet roster_bench_partition 2>/dev/null
    fi
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
    shift # the rest: extra rosterd flags
    local sock="$WORK/roster-$tag.sock"
    DLOG="$WORK/rosterd-$tag.log"
    # exec'd by taskset (same pid), so $! is rosterd's pid
    "${PIN[@]}" "$BIN/rosterd" --socket "$sock" "${DFLAGS[@]}" "$@" >"$DLOG" 2>&1 &
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
    shift # the rest: the program's arguments
    if ! "$BIN/$p" "$@"; then
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

if [ "$PART" != cluster ]; then
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

    # Figure 8's cost side: registration on a fresh node with the shared-memory region and
    # on one without (--no-shm), and the memory figure without the region.
    echo
    start_daemon shm-reg
    echo "   (fresh rosterd pid $DPID: registration with shared-memory publishing)"
    run_prog bench_shm register shm
    stop_daemon
    start_daemon noshm-reg --no-shm
    echo "   (fresh rosterd pid $DPID, --no-shm: registration without publishing)"
    run_prog bench_shm register noshm
    stop_daemon
    start_daemon noshm-memory --no-shm
    echo "   (fresh rosterd pid $DPID, --no-shm: the memory figure without the region)"
    BENCH_RESULTS=/dev/null run_prog bench_memory
    stop_daemon
fi

# --- cluster: 3 nodes on loopback -----------------------------------------------------------
COOKIE="$WORK/cookie"
CL_PORT=7400
if [ "$CL_NETNS" != 1 ]; then
    CL_PORT=$((20000 + ($$ % 2000) * 10)) # the host's loopback: stay clear of fixed ports
fi

# start_cluster TAG [FLAGS...]: nodes a, b, c on 127.0.0.1/2/3 (b and c join a), unpinned
# (bench_cluster places them per figure); returns once each lists 3 nodes up. Log level info:
# the purge figure reads when each node saw its connection to a close.
start_cluster() {
    local tag=$1 i n ip port sock log
    shift
    local names=(a b c)
    CL_PIDS=()
    CL_PORT=$((CL_PORT + 10)) # a fresh port set per cluster: no TIME_WAIT surprises
    for i in 0 1 2; do
        n=${names[$i]}
        ip=127.0.0.$((i + 1))
        port=$((CL_PORT + i + 1))
        sock="$WORK/cl-$tag-$n.sock"
        log="$WORK/cl-$tag-$n.log"
        local join=()
        [ "$i" -gt 0 ] && join=(--join "127.0.0.1:$((CL_PORT + 1))")
        "${CL_ROSTERD:-$BIN/rosterd}" --name "$n" --socket "$sock" --listen "$ip:$port" "${join[@]}" \
            --cookie-file "$COOKIE" "${DFLAGS[@]}" --log-level info "$@" >"$log" 2>&1 &
        CL_PIDS+=($!)
        # no job notice ("Killed") when the purge figure kills node a; stop_pid still polls
        # /proc and reaps through bash's SIGCHLD handler
        disown $!
        local up=${n^^}
        export "BENCH_CL_SOCK_$up=$sock" "BENCH_CL_PID_$up=$!" "BENCH_CL_LOG_$up=$log"
    done
    for i in 0 1 2; do
        n=${names[$i]}
        local up=${n^^} s l
        s="BENCH_CL_SOCK_$up" l="BENCH_CL_LOG_$up"
        if ! "$BIN/bench_tool" ready "${!s}" "${CL_PIDS[$i]}" 10000 ||
            ! "$BIN/bench_tool" mesh "${!s}" 3 20000; then
            echo "run.sh: cluster node $n did not come up; its log:" >&2
            sed 's/^/  | /' "${!l}" >&2
            exit 1
        fi
    done
}

run_cluster() {
    if ! "$BIN/bench_cluster" "$@"; then
        FAILED+=("bench_cluster $*")
        echo "   !! bench_cluster $* FAILED (operation error; see above)"
    fi
    local i names=(a b c)
    for i in 0 1 2; do
        # node a is killed on purpose by the purge figure
        if [ "$1" = purge ] && [ "$i" = 0 ]; then continue; fi
        if ! alive "${CL_PIDS[$i]}"; then
            local l="BENCH_CL_LOG_${names[$i]^^}"
            echo "   !! cluster node ${names[$i]} died during bench_cluster $*; its log:"
            tail -n 20 "${!l}" | sed 's/^/  | /'
            FAILED+=("node ${names[$i]} during bench_cluster $*")
        fi
    done
    stop_cluster
}

if [ "$PART" != single ]; then
    # the CPU cost of one record on a sealed and on a TLS link, in memory (seconds)
    echo
    if lc=$("$BIN/bench_linkcrypto"); then
        grep -v '^linkcrypto_' <<<"$lc"
        grep '^linkcrypto_' <<<"$lc" >>"$WORK/results"
    else
        FAILED+=("bench_linkcrypto")
    fi
    (umask 077 && head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$COOKIE")
    export BENCH_CL_NETNS=$CL_NETNS
    echo
    echo "   cluster: 3 rosterd nodes a, b, c on 127.0.0.1/2/3, ports from $((CL_PORT + 11)), cookie in $WORK;" \
        "$([ "$CL_NETNS" = 1 ] && echo 'in a private network namespace (unshare --net)' || echo "in the host's network namespace")"
    for link in ${BENCH_CL_LINKS:-sealed}; do
        case $link in
        sealed) CL_ROSTERD= start_cluster main ;;
        unsealed)
            [ -x "${BENCH_UNSEALED_BIN:-}/rosterd" ] ||
                { echo "run.sh: unsealed needs BENCH_UNSEALED_BIN (a -DROSTER_BENCH_UNSEALED=ON build's bin)" >&2; exit 2; }
            CL_ROSTERD="$BENCH_UNSEALED_BIN/rosterd" start_cluster main ;;
        tls)
            if [ ! -f "$WORK/pki/ca.pem" ]; then
                (mkdir -p "$WORK/pki" && cd "$WORK/pki" &&
                    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
                        -keyout ca.key -out ca.pem -days 2 -subj /CN=bench-ca &&
                    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
                        -keyout node.key -out node.csr -subj /CN=bench-node &&
                    openssl x509 -req -in node.csr -CA ca.pem -CAkey ca.key \
                        -CAcreateserial -out node.pem -days 2) >/dev/null 2>&1 ||
                    { echo "run.sh: cannot make the TLS certificates (openssl)" >&2; exit 1; }
            fi
            start_cluster main --peer-tls-cert "$WORK/pki/node.pem" \
                --peer-tls-key "$WORK/pki/node.key" --peer-tls-ca "$WORK/pki/ca.pem" ;;
        *) echo "run.sh: BENCH_CL_LINKS: '$link' is not sealed, tls or unsealed" >&2; exit 2 ;;
        esac
        echo "   (C1-C4 cluster: peer links $link: $(grep -o 'link [a-zA-Z]* [^;]*' \
            "$BENCH_CL_LOG_A" | head -1))"
        run_cluster main
    done
    [ "${BENCH_CL_MAIN_ONLY:-}" = 1 ] && exit $((${#FAILED[@]} > 0))
    PURGE_ROUNDS=3
    for r in $(seq 1 $PURGE_ROUNDS); do
        start_cluster "purge$r"
        run_cluster purge "$r" "$PURGE_ROUNDS"
    done
    # short failure detection so that both sides declare the partition within a second
    start_cluster heal --heartbeat-ms 100 --down-after-ms 600
    echo "   (C6 cluster: --heartbeat-ms 100 --down-after-ms 600)"
    run_cluster heal
    start_cluster memory
    run_cluster memory
fi
[ "$PART" = all ] && { bash "$(dirname "$0")/run_msg.sh" "$BIN" || FAILED+=("run_msg.sh (messaging)"); }
# The cost of a /metrics scraper (docs/PERFORMANCE.md, "Metrics scraping"): its own node.
if [ "$PART" = all ] && [ -x "$BIN/bench_metrics" ]; then
    echo
    if [ -n "${BENCH_QUICK:-}" ]; then mr=(8 250); else mr=(20 500); fi
    "$BIN/bench_metrics" "$BIN/rosterd" "${mr[@]}" || FAILED+=("bench_metrics")
fi

"$BIN/bench_tool" report "$BENCH_RESULTS"
echo
echo "   total time $((SECONDS - START)) s"
if [ ${#FAILED[@]} -gt 0 ]; then
    echo "FAILED: ${FAILED[*]}"
    exit 1
fi
exit 0
