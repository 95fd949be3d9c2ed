#!/usr/bin/env bash
# strong-cluster.sh: a local cluster for trying strong scopes by hand: a 3-member etcd
# cluster and 3 rosterd nodes (a, b, c) on 127.0.0.1, with data in a temporary directory.
# It creates the strong scope "strong", prints how to reach each node, and keeps running
# until Ctrl-C (or SIGTERM), when it stops every process it started, by pid, and removes
# the directory. See docs/CONSISTENCY.md.
#
#   scripts/strong-cluster.sh [--build DIR] [--port BASE] [--keep]
#
#   --build DIR  where rosterd and rosterctl are (default: build/bin next to this script)
#   --port BASE  first port used (default 23790): etcd clients BASE..BASE+2, etcd peers
#                BASE+10..BASE+12, rosterd peers BASE+20..BASE+22
#   --keep       keep the directory (logs, etcd data) after stopping
set -u

here=$(cd "$(dirname "$0")/.." && pwd)
bin="$here/build/bin"
base=23790
keep=0
while [ $# -gt 0 ]; do
    case "$1" in
    --build) bin=$2; shift 2 ;;
    --port) base=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "strong-cluster.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
    esac
done

etcd_bin=$(command -v etcd || true)
[ -n "$etcd_bin" ] || { echo "strong-cluster.sh: etcd not found (Debian: apt-get install etcd-server)" >&2; exit 2; }
for p in rosterd rosterctl; do
    [ -x "$bin/$p" ] || { echo "strong-cluster.sh: $bin/$p not found: build first (make) or pass --build DIR" >&2; exit 2; }
done

dir=$(mktemp -d /tmp/roster-strong-XXXXXX)
pids=()

stop() {
    trap - INT TERM EXIT
    echo
    echo "stopping ${#pids[@]} processes"
    # rosterds first (they hold etcd leases), then the etcd members; each by its pid
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
        kill -TERM "${pids[$i]}" 2>/dev/null
    done
    for pid in "${pids[@]}"; do
        for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    if [ "$keep" = 1 ]; then echo "kept $dir"; else rm -rf "$dir"; fi
    exit 0
}
trap stop INT TERM EXIT

# wait_for CMD... polls a command until it succeeds (deadline 20 s).
wait_for() {
    for _ in $(seq 200); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    return 1
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# --- etcd: 3 members ---------------------------------------------------------------------
initial=""
endpoints=""
for i in 0 1 2; do
    initial+="${initial:+,}m$i=http://127.0.0.1:$((base + 10 + i))"
    endpoints+="${endpoints:+,}http://127.0.0.1:$((base + i))"
done
for i in 0 1 2; do
    c="http://127.0.0.1:$((base + i))"
    p="http://127.0.0.1:$((base + 10 + i))"
    "$etcd_bin" --name "m$i" --data-dir "$dir/etcd$i" \
        --listen-client-urls "$c" --advertise-client-urls "$c" \
        --listen-peer-urls "$p" --initial-advertise-peer-urls "$p" \
        --initial-cluster "$initial" --initial-cluster-token "roster-try-$$" \
        --initial-cluster-state new --logger zap --log-level warn \
        >"$dir/etcd$i.log" 2>&1 &
    pids+=($!)
done
for i in 0 1 2; do
    wait_for port_open $((base + i)) || { echo "etcd member m$i did not start: $dir/etcd$i.log" >&2; exit 1; }
done
echo "etcd:     $endpoints"

# --- rosterd: 3 nodes on that etcd ---------------------------------------------------------
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$dir/cookie"
names=(a b c)
for i in 0 1 2; do
    n=${names[$i]}
    join=()
    [ "$i" -gt 0 ] && join=(--join "127.0.0.1:$((base + 20))")
    "$bin/rosterd" --name "$n" --socket "$dir/$n.sock" --listen "127.0.0.1:$((base + 20 + i))" \
        "${join[@]}" --cookie-file "$dir/cookie" \
        --etcd "$endpoints" --etcd-prefix /roster/try/ >"$dir/$n.log" 2>&1 &
    pids+=($!)
done
for n in "${names[@]}"; do
    wait_for "$bin/rosterctl" --socket "$dir/$n.sock" ping || { echo "rosterd $n did not start: $dir/$n.log" >&2; exit 1; }
done

# --- the strong scope ----------------------------------------------------------------------
created=0
for _ in $(seq 200); do
    out=$("$bin/rosterctl" --socket "$dir/a.sock" scope-create strong --strong 2>&1) && { created=1; break; }
    case "$out" in
    *"already exists"*) created=1; break ;;
    *"not available in this version"*) break ;; # a build without the core's strong scopes
    esac
    sleep 0.1 # "strong scopes are starting": the node has no lease yet
done
if [ "$created" = 1 ]; then
    echo "scope:    strong (mode strong, on every node)"
else
    echo "scope:    could not create the strong scope: $out"
fi

cat <<EOF
nodes:    a $dir/a.sock, b $dir/b.sock, c $dir/c.sock   (logs: $dir/*.log)

Try, in another shell:
  export PATH=$bin:\$PATH A=$dir/a.sock B=$dir/b.sock
  rosterctl --socket \$A scopes
  sleep infinity | rosterctl --socket \$A --scope strong register db --meta v1 &
  rosterctl --socket \$B --scope strong register db            # ETAKEN, names the holder
  rosterctl --socket \$B --scope strong lookup db              # token and revision
  rosterctl --socket \$B --scope strong check-token db TOKEN
  rosterctl --socket \$B --scope strong watch --snapshot
  rosterctl --socket \$B --scope strong elect leader

Ctrl-C stops everything.
EOF

# Stay until interrupted; a process that dies is reported, the rest keeps running.
while :; do
    wait -n "${pids[@]}" 2>/dev/null
    for idx in "${!pids[@]}"; do
        if ! kill -0 "${pids[$idx]}" 2>/dev/null; then
            echo "process ${pids[$idx]} exited (see the logs in $dir)"
            unset 'pids[idx]'
            pids=("${pids[@]}")
            break
        fi
    done
    [ ${#pids[@]} -gt 0 ] || break
done
