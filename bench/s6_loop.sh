#!/bin/sh
# s6_loop.sh: the distribution of S6 (writes resume after the etcd leader's kill -9) over
# N runs of bench_strong (BENCH_QUICK=1) per build, since one run says little: whether a
# write was in flight on a follower at the kill is a race. With two builds (old and new
# code) the runs alternate, so both see the same machine load.
# Usage: bench/s6_loop.sh N BUILD_DIR [BUILD_DIR...]
# Prints each run's figure, then per build the sorted figures; and the load average.
set -eu
n="${1:?usage: s6_loop.sh N BUILD_DIR [BUILD_DIR...]}"
shift
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
echo "start: $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)"
i=0
while [ "$i" -lt "$n" ]; do
    i=$((i + 1))
    k=0
    for b in "$@"; do
        k=$((k + 1))
        ms=$(BENCH_QUICK=1 "$b/bin/bench_strong" 2>&1 |
             sed -n 's/.*writes resumed \([0-9]*\) ms.*/\1/p')
        echo "run $i $b: ${ms:-FAILED} ms"
        echo "${ms:-99999}" >>"$dir/$k"
    done
done
k=0
for b in "$@"; do
    k=$((k + 1))
    echo "$b sorted: $(sort -n "$dir/$k" | tr '\n' ' ')"
    echo "$b over 1000 ms: $(awk '$1 > 1000' "$dir/$k" | wc -l) of $n"
done
echo "end: $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)"
