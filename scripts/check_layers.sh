#!/usr/bin/env bash
# check_layers.sh: fails when an #include goes the wrong way between roster's layers, or is
# written in the other include style. Run by ctest (test_layers); `--self-test` proves that
# each rule fires by planting a wrong include in a copy of the tree.
#
# The layers (docs/ARCHITECTURE.md), each allowed to see only what is below it:
#   src/base    libc only
#   src/wire    base
#   src/core    base, wire, <roster.h> (error, event and reason codes travel on the wire);
#               never libuv, libsodium, OpenSSL, sockets, clocks, threads or signals
#   src/etcd    base, wire (the etcd v3 client: its own thread, gRPC, protobuf-c)
#   src/node    base, wire, the core's public header core/core.h, etcd/etcd.h, <roster.h>,
#               libuv, libsodium, OpenSSL
#   src/client  base, wire, <roster.h>; never core or node
#   tools, bench, examples   <roster.h> and their own directory only (bench_etcd: also
#               etcd/etcd.h and the tests' etcd harness: it measures etcd itself;
#               bench_linkcrypto: node/seal.h and base/buf.h, the sealing it measures)
#   tests       anything above, but never a core header other than core/core.h
# One include style: a project header is named from src/ ("base/buf.h", "core/names.h"),
# never relative ("../base/buf.h") and never bare ("buf.h") inside src/.
set -euo pipefail

if [ "${1:-}" = "--self-test" ]; then
    src=$(cd "$(dirname "$0")/.." && pwd)
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    fails=0
    # Each case: file to plant into, line to plant. Every one must be refused.
    cases=(
        'src/core/zz_bad.c|#include "node/node.h"'
        'src/core/zz_bad.c|#include <uv.h>'
        'src/core/zz_bad.c|#include <time.h>'
        'src/core/zz_bad.c|#include <sys/socket.h>'
        'src/core/zz_bad.c|#include "client/client.h"'
        'src/wire/zz_bad.c|#include "core/core.h"'
        'src/base/zz_bad.c|#include "wire/wire.h"'
        'src/client/zz_bad.c|#include "core/core.h"'
        'src/client/zz_bad.c|#include "node/node.h"'
        'src/node/zz_bad.c|#include "core/internal.h"'
        'src/node/zz_bad.c|#include "client/client.h"'
        'src/core/zz_bad.c|#include "../base/buf.h"'
        'src/core/zz_bad.c|#include "core.h"'
        'tools/rosterctl/zz_bad.c|#include "base/buf.h"'
        'tests/unit/zz_bad.c|#include "core/internal.h"'
    )
    for c in "${cases[@]}"; do
        f=${c%%|*}
        line=${c#*|}
        rm -rf "$tmp/t"
        mkdir -p "$tmp/t"
        (cd "$src" && tar cf - src tools bench examples tests include 2>/dev/null) | tar xf - -C "$tmp/t"
        mkdir -p "$tmp/t/$(dirname "$f")"
        printf '/* planted */\n%s\n' "$line" >"$tmp/t/$f"
        if bash "$src/scripts/check_layers.sh" "$tmp/t" >/dev/null 2>&1; then
            echo "self-test: not refused: $f: $line"
            fails=$((fails + 1))
        fi
    done
    if ! bash "$src/scripts/check_layers.sh" "$src" >/dev/null; then
        echo "self-test: the tree itself does not pass"
        fails=$((fails + 1))
    fi
    [ "$fails" -eq 0 ] && echo "check_layers self-test: ${#cases[@]} planted includes refused"
    exit $((fails > 0))
fi

root=$(cd "${1:-$(dirname "$0")/..}" && pwd)
cd "$root"
bad=0
say() { echo "$1: $2"; bad=1; }

# Names a quoted include may start with, per directory of the including file.
allowed_dirs() {
    case "$1" in
    src/base) echo "base" ;;
    src/wire) echo "base wire" ;;
    src/core) echo "base wire core" ;;
    src/node) echo "base wire core etcd node" ;;
    src/etcd) echo "base wire etcd" ;;
    src/client) echo "base wire client" ;;
    *) echo "" ;;
    esac
}

# System headers the pure layers must not see: I/O, sockets, clocks, threads, signals.
forbidden_sys='^(uv\.h|sodium\.h|openssl/.*|sys/socket\.h|sys/un\.h|netinet/.*|arpa/.*|netdb\.h|poll\.h|sys/epoll\.h|sys/eventfd\.h|time\.h|sys/time\.h|pthread\.h|unistd\.h|fcntl\.h|signal\.h|dlfcn\.h|sys/random\.h|stdatomic\.h)$'

while IFS= read -r f; do
    dir=$(dirname "$f")
    layer=$dir
    case "$f" in
    src/*) layer=$(echo "$f" | cut -d/ -f1-2) ;;
    esac
    while IFS= read -r inc; do
        [ -n "$inc" ] || continue
        case "$inc" in
        \"*)
            h=${inc#\"}
            h=${h%%\"*}
            if [[ "$h" == *../* ]]; then
                say "$f" "relative include \"$h\" (name it from src/)"
                continue
            fi
            case "$f" in
            src/*)
                # protoc-c writes these into the build tree, next to nothing of ours
                [[ "$h" == *.pb-c.h ]] && continue
                if [ "$h" = roster.h ]; then
                    say "$f" "write <roster.h>: the public header is found on the include path"
                    continue
                fi
                top=${h%%/*}
                if [ "$top" = "$h" ]; then
                    say "$f" "bare include \"$h\" (name it from src/: \"${layer#src/}/$h\")"
                    continue
                fi
                ok=0
                for d in $(allowed_dirs "$layer"); do [ "$top" = "$d" ] && ok=1; done
                if [ $ok -eq 0 ]; then
                    say "$f" "wrong-way include \"$h\" (${layer#src/} may use: $(allowed_dirs "$layer"))"
                    continue
                fi
                if [ "$layer" = src/node ] && [ "$top" = core ] && [ "$h" != core/core.h ]; then
                    say "$f" "the shell includes a core-internal header \"$h\" (only core/core.h)"
                fi
                if [ "$layer" = src/node ] && [ "$top" = etcd ] && [ "$h" != etcd/etcd.h ]; then
                    say "$f" "the shell includes an etcd-internal header \"$h\" (only etcd/etcd.h)"
                fi
                ;;
            tools/* | bench/* | examples/*)
                # bench_etcd measures etcd itself, the reference of strong scopes, through
                # the same client the node uses, on etcd members the tests' harness starts;
                # bench_strong puts that reference beside rosterd nodes the harness starts
                if [[ "$f" =~ ^bench/bench_(etcd|strong)\.c$ ]] &&
                    [[ "$h" =~ ^(etcd/etcd\.h|etcd_harness\.h|node\.h)$ ]]; then
                    continue
                fi
                # bench_linkcrypto measures the node's own sealing (seal.c) against TLS
                if [ "$f" = bench/bench_linkcrypto.c ] &&
                    [[ "$h" =~ ^(node/seal\.h|base/buf\.h)$ ]]; then
                    continue
                fi
                if [[ "$h" == */* ]] || [ ! -f "$dir/$h" ]; then
                    [ "$h" = roster.h ] || say "$f" "\"$h\": programs on libroster see only roster.h and their own files"
                fi
                ;;
            tests/*)
                case "$h" in
                core/core.h) ;;
                core/*) say "$f" "a test includes the core-internal header \"$h\" (only core/core.h)" ;;
                esac
                ;;
            esac
            ;;
        \<*)
            h=${inc#<}
            h=${h%%>*}
            case "$layer" in
            src/core | src/wire)
                if [[ "$h" =~ $forbidden_sys ]]; then
                    say "$f" "<$h> in ${layer#src/}: the pure layers never touch I/O, clocks or threads"
                fi
                ;;
            src/base)
                [[ "$h" =~ ^(uv\.h|sodium\.h)$ ]] && say "$f" "<$h> in base"
                ;;
            src/client)
                [[ "$h" =~ ^(uv\.h|sodium\.h)$ ]] && say "$f" "<$h> in the client library"
                ;;
            esac
            ;;
        esac
    done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*\([<"][^">]*[">]\).*/\1/p' "$f")
done < <(find src tools bench examples tests -name '*.[ch]' -not -path '*/corpus/*' 2>/dev/null | sort)

if [ $bad -ne 0 ]; then
    echo "check_layers: wrong-way or wrongly written includes (see docs/ARCHITECTURE.md, Layers)"
    exit 1
fi
echo "check_layers: every include goes down the layers and is named from src/"
