#!/bin/sh
# core_calls.sh BUILD_DIR: which file of src/core calls which, read from the object files
# of roster_core with nm (it builds nothing). A call from A to B is a symbol undefined in
# A.o and defined in B.o. Prints every calling pair, then the number of unordered file
# pairs with a call in either direction and of those that call both ways, and fails
# (exit 1) if any call goes upward.
#
# Layers (docs/ARCHITECTURE.md, "The core in three layers"); a file may call its own
# layer or any lower one:
#   0 shared helpers with no outputs: util (allocation, bytes, sorting), hlc (clock)
#   1 tables: data and indexes only (pids, scopes, names, claims, members, subs,
#     monitors, nodes, ttl: the leases, smeta)
#   2 the change pipeline and the outputs it drives: change, events, notices, repl,
#     output, publish (the shared-memory region)
#   3 handlers: decode, validate, call tables, submit changes, reply (everything else)
# A file not listed below is layer 3, so a new table must be named here to be checked as
# one.
set -eu
B=${1:?usage: core_calls.sh BUILD_DIR}
D="$B/CMakeFiles/roster_core.dir/src/core"
[ -d "$D" ] || { echo "core_calls.sh: no $D (build roster_core first)" >&2; exit 2; }

layer() {
    case "$1" in
    util | hlc) echo 0 ;;
    pids | scopes | names | claims | members | subs | monitors | nodes | ttl | smeta) echo 1 ;;
    change | events | notices | repl | output | publish) echo 2 ;;
    *) echo 3 ;;
    esac
}

# Only the objects in the library: a build dir keeps objects of deleted sources.
A=$(find "$B" -name libroster_core.a | head -n 1)
[ -n "$A" ] || { echo "core_calls.sh: no libroster_core.a under $B" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ar t "$A" | sort -u >"$tmp/members"
for o in "$D"/*.c.o; do
    grep -qx "$(basename "$o")" "$tmp/members" || continue
    f=$(basename "$o" .c.o)
    echo "$f" >>"$tmp/files"
    nm --defined-only -g "$o" | awk -v f="$f" 'NF == 3 { print $3, f }' >>"$tmp/defs"
    nm -u "$o" | awk -v f="$f" '{ print $NF, f }' >>"$tmp/uses"
done
sort -u "$tmp/defs" >"$tmp/defs.s"
sort -u "$tmp/uses" >"$tmp/uses.s"
# caller callee (one line per pair of distinct files)
join "$tmp/uses.s" "$tmp/defs.s" | awk '$2 != $3 { print $2, $3 }' | sort -u >"$tmp/edges"

bad=0
while read -r from to; do
    lf=$(layer "$from")
    lt=$(layer "$to")
    if [ "$lt" -gt "$lf" ]; then
        echo "UPWARD: $from ($lf) -> $to ($lt):" \
            "$(join "$tmp/uses.s" "$tmp/defs.s" | awk -v a="$from" -v b="$to" \
                '$2 == a && $3 == b { printf "%s ", $1 }')"
        bad=1
    else
        echo "$from ($lf) -> $to ($lt)"
    fi
done <"$tmp/edges"

files=$(wc -l <"$tmp/files")
pairs=$(awk '{ if ($1 < $2) print $1, $2; else print $2, $1 }' "$tmp/edges" | sort -u | wc -l)
# both ways: A calls B and B calls A
mutual=$(awk '{ if ($1 < $2) print $1, $2; else print $2, $1 }' "$tmp/edges" | sort | uniq -d | wc -l)
echo "core files: $files; file pairs with a call: $pairs of $((files * (files - 1) / 2));" \
    "pairs calling each other both ways: $mutual"
if [ "$bad" -ne 0 ]; then
    echo "FAIL: calls go upward (see UPWARD above)"
    exit 1
fi
echo "OK: no call goes upward"
