#!/usr/bin/env bash
# test_install_tree.sh: what `make install` puts in place for operators and users: the unit
# (its ExecStart the installed rosterd), sysusers and tmpfiles entries, man pages that
# `man` finds and renders, the completion files, and the Python package, which imports
# from the installed tree and talks to the installed rosterd through the installed library.
# Usage: test_install_tree.sh BUILDDIR
set -u
B=$1
fail=0
P=$(mktemp -d /tmp/roster-inst.XXXXXX)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$P"; }
trap cleanup EXIT
cmake --install "$B" --prefix "$P" >/dev/null || { echo "FAIL: cmake --install"; exit 1; }
check() { if eval "$2"; then echo "ok: $1"; else echo "FAIL: $1"; fail=1; fi; }

unit="$P/lib/systemd/system/rosterd.service"
check "unit installed, ExecStart is the installed rosterd" \
    "grep -q '^ExecStart=$P/bin/rosterd ' '$unit'"
check "sysusers entry" "grep -q '^u roster ' '$P/lib/sysusers.d/roster.conf'"
check "tmpfiles entry" "grep -q '^L /run/roster.sock ' '$P/lib/tmpfiles.d/roster.conf'"
check "bash completion" "bash -c 'source $P/share/bash-completion/completions/rosterctl && complete -p rosterctl' >/dev/null"
check "zsh completion" "head -1 '$P/share/zsh/site-functions/_rosterctl' | grep -q '^#compdef rosterctl'"
for page in man8/rosterd.8 man1/rosterctl.1 man3/roster.3; do
    name=${page#*/}
    check "man finds and renders ${name%.*}(${name##*.})" \
        "MANPATH='$P/share/man' MANWIDTH=80 man ${name##*.} ${name%.*} 2>/dev/null | grep -q '^NAME'"
done

lib=$(ls "$P"/lib*/libroster.so.[0-9]* 2>/dev/null "$P"/lib/*/libroster.so.[0-9]* 2>/dev/null | head -1)
sock="$P/r.sock"
"$P/bin/rosterd" --config /dev/null --socket "$sock" --log-level warn &
pid=$!
out=$(cd / && PYTHONPATH="$P/lib/python3/dist-packages" ROSTER_LIB="$lib" ROSTER_SOCKET="$sock" \
    timeout 30 /usr/bin/python3 -c '
import time, roster
deadline = time.monotonic() + 10
while True:
    try:
        c = roster.Client(); break
    except roster.RosterError:
        if time.monotonic() > deadline: raise
        time.sleep(0.02)
with c, c.register("installed", meta="yes"):
    print(roster.__file__, c.lookup("installed").meta.decode())
' 2>&1)
check "python package from the install tree ($out)" \
    "printf '%s' \"\$out\" | grep -q '^$P/lib/python3/dist-packages/roster/__init__.py yes$'"
exit $fail
