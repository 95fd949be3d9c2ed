#!/usr/bin/env bash
# test_systemd_unit.sh: the unit as the build configures it (build/packaging/rosterd.service)
# passes `systemd-analyze verify` (directives, the ExecStart binary, the man pages of
# Documentation= found through MANPATH=build/man) and `systemd-analyze security` rates its
# sandbox at most 2.0 ("OK"); the sysusers and tmpfiles files parse (systemd-sysusers and
# systemd-tmpfiles --dry-run against an empty root). Skipped, with the reason, where
# systemd-analyze is missing.
# Usage: test_systemd_unit.sh BUILDDIR SRCDIR
set -u
B=$1 SRC=$2
if ! command -v systemd-analyze >/dev/null; then
    echo "skip: systemd-analyze is not installed (Debian package systemd)"
    exit 77
fi
fail=0
dir=$(mktemp -d /tmp/roster-unit.XXXXXX)
trap 'rm -rf "$dir"' EXIT
# verify checks the ExecStart binary exists: point it at the build's.
sed "s#^ExecStart=[^ ]*/rosterd#ExecStart=$B/bin/rosterd#" "$B/packaging/rosterd.service" \
    >"$dir/rosterd.service"
grep -q '^Type=notify$' "$dir/rosterd.service" || { echo "FAIL: not Type=notify"; fail=1; }
grep -q '^WatchdogSec=' "$dir/rosterd.service" || { echo "FAIL: no WatchdogSec"; fail=1; }
# man looks for SECTION directories under MANPATH.
for p in rosterd.8 rosterctl.1 roster.3; do
    mkdir -p "$dir/man/man${p##*.}" && ln -s "$B/man/$p" "$dir/man/man${p##*.}/$p"
done
if out=$(MANPATH="$dir/man" systemd-analyze verify "$dir/rosterd.service" 2>&1) && [ -z "$out" ]; then
    echo "ok: systemd-analyze verify"
else
    echo "FAIL: systemd-analyze verify:"; echo "$out"; fail=1
fi
sec=$(systemd-analyze security --offline=yes "$dir/rosterd.service" 2>&1)
level=$(printf '%s\n' "$sec" | sed -n 's/.*Overall exposure level for rosterd.service: \([0-9.]*\).*/\1/p')
echo "exposure level: ${level:-?}"
if [ -z "$level" ] || ! awk -v l="$level" 'BEGIN { exit !(l <= 2.0) }'; then
    echo "FAIL: systemd-analyze security: exposure ${level:-unknown} above 2.0"
    printf '%s\n' "$sec" | grep '✗'
    fail=1
else
    echo "ok: systemd-analyze security: exposure $level <= 2.0"
fi
mkdir -p "$dir/root/etc"
if command -v systemd-sysusers >/dev/null; then
    # Into the empty root, so that tmpfiles below finds the group.
    if out=$(systemd-sysusers --root="$dir/root" "$SRC/packaging/systemd/rosterd.sysusers" 2>&1) &&
        grep -q '^roster:' "$dir/root/etc/passwd" && grep -q '^roster:' "$dir/root/etc/group"; then
        echo "ok: sysusers creates roster"
    else
        echo "FAIL: systemd-sysusers:"; echo "$out"; fail=1
    fi
fi
if command -v systemd-tmpfiles >/dev/null; then
    if out=$(systemd-tmpfiles --root="$dir/root" --create "$SRC/packaging/systemd/rosterd.tmpfiles" 2>&1) &&
        [ "$(readlink "$dir/root/run/roster.sock")" = /run/roster/roster.sock ] &&
        [ -d "$dir/root/etc/roster" ]; then
        echo "ok: tmpfiles links /run/roster.sock"
    else
        echo "FAIL: systemd-tmpfiles:"; echo "$out"; fail=1
    fi
fi
exit $fail
