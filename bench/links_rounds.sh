#!/bin/bash
# links_rounds.sh: the same-run comparison of peer-link kinds for docs/PERFORMANCE.md
# ("Sealed peer links", "TLS on peer links"): ROUNDS rounds (default 8), each running the
# C1-C4 cluster once per kind (unsealed, sealed, tls) in rotating order and, with OLD_BIN
# (a copy of build/bin whose rosterd is another commit's), once more with that build's
# sealed links, labelled "oldsealed" (first in every other round). Alternating within a
# round is what makes per-round ratios meaningful on a loaded machine. Prints the report;
# summarise with bench/links_summary.py REPORT unsealed.
#
#   [OLD_LABEL=oldsealed] bench/links_rounds.sh BIN UNSEALED_BIN [OLD_BIN] > report.txt
set -u
BIN=${1:?usage: links_rounds.sh BIN UNSEALED_BIN [OLD_BIN]}
UBIN=${2:?usage: links_rounds.sh BIN UNSEALED_BIN [OLD_BIN]}
OLD=${3:-}
cd "$(dirname "$0")/.."
orders=("unsealed sealed tls" "tls unsealed sealed" "sealed tls unsealed")
old() {
    [ -n "$OLD" ] || return 0
    BENCH_PART=cluster BENCH_CL_MAIN_ONLY=1 BENCH_CL_LINKS=sealed bench/run.sh "$OLD" 2>&1 |
        sed "s/peer links sealed:/peer links ${OLD_LABEL:-oldsealed}:/"
}
for i in $(seq 1 "${ROUNDS:-8}"); do
    echo "round $i: $(uptime)" >&2
    [ $((i % 2)) = 0 ] && old
    BENCH_PART=cluster BENCH_CL_MAIN_ONLY=1 BENCH_CL_LINKS="${orders[$((i % 3))]}" \
        BENCH_UNSEALED_BIN="$UBIN" bench/run.sh "$BIN" 2>&1
    [ $((i % 2)) = 1 ] && old
done
echo "end: $(uptime)" >&2
