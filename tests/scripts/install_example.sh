#!/usr/bin/env bash
# install_example.sh BUILD_DIR SOURCE_DIR: installs the build into a temporary prefix, builds
# examples/hello.c with the installed pkg-config file (exactly as a user would), and runs it
# against the installed rosterd on a private socket. Every process it starts is stopped by
# pid; the prefix is removed.
set -euo pipefail
build=$1 src=$2
tmp=$(mktemp -d /tmp/roster-install-XXXXXX)
daemon=
cleanup() {
  if [ -n "$daemon" ]; then kill "$daemon" 2>/dev/null || true; wait "$daemon" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
for f in bin/rosterd bin/rosterctl include/roster.h; do
  [ -e "$tmp/prefix/$f" ] || { echo "missing $f after install"; exit 1; }
done
libdir=$(dirname "$(find "$tmp/prefix" -name roster.pc | head -n 1)")/..
ls "$libdir"/libroster.so* "$libdir"/libroster.a >/dev/null
export PKG_CONFIG_PATH="$libdir/pkgconfig"
# The same command as examples/Makefile, writing outside the source tree.
"${CC:-cc}" -O2 -Wall -Wextra -Werror -o "$tmp/hello" "$src/examples/hello.c" \
  $(pkg-config --cflags --libs roster)
export ROSTER_SOCKET="$tmp/r.sock"
"$tmp/prefix/bin/rosterd" --name inst --log-level warn &
daemon=$!
for _ in $(seq 1 500); do
  "$tmp/prefix/bin/rosterctl" ping >/dev/null 2>&1 && break
  kill -0 "$daemon" || { echo "rosterd died"; exit 1; }
  sleep 0.01
done
out=$(LD_LIBRARY_PATH="$libdir" "$tmp/hello")
echo "$out"
grep -q "connected to node inst" <<<"$out"
grep -q "lookup" <<<"$out"
kill "$daemon"
wait "$daemon"
daemon=
echo "1 passed, 0 failed"
