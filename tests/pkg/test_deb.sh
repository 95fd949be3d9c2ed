#!/usr/bin/env bash
# test_deb.sh: the Debian packages of `make deb` on this machine: built (into BUILDDIR/deb),
# lintian without errors or warnings, installed with dpkg, the service started (by systemd
# where it runs; elsewhere the unit's ExecStart as its User=, in its RuntimeDirectory), a
# name registered with the installed rosterctl through root's default socket (the tmpfiles
# link) and seen by the installed Python binding, then every package purged again.
# Skipped (77), with the reason: not root, no debhelper, or roster packages already
# installed (an operator's install is not touched).
# Usage: test_deb.sh BUILDDIR SRCDIR
set -u
B=$1 SRC=$2
PKGS="rosterd rosterctl libroster1 libroster-dev python3-roster"
[ "$(id -u)" -eq 0 ] || { echo "skip: installing packages needs root"; exit 77; }
for t in dpkg-buildpackage dh lintian; do
    command -v $t >/dev/null || { echo "skip: $t is not installed (scripts/deps.sh deb)"; exit 77; }
done
# Worktrees of one machine share its dpkg database and /run: one package test at a time.
exec 9>/run/lock/roster-pkg-deb.lock
flock -w 900 9 || { echo "FAIL: another package test held the lock for 15 minutes"; exit 1; }
for p in $PKGS; do
    if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        echo "skip: package $p is already installed here; not touching it"
        exit 77
    fi
done
fail=0
pid= reg_pid= installed=0 systemd=0
[ -d /run/systemd/system ] && systemd=1
etc_was_there=0
[ -d /etc/roster ] && etc_was_there=1
cleanup() {
    [ -n "$reg_pid" ] && kill "$reg_pid" 2>/dev/null && wait "$reg_pid" 2>/dev/null
    if [ $systemd -eq 1 ]; then systemctl stop rosterd 2>/dev/null; fi
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    if [ $installed -eq 1 ]; then
        dpkg --purge $PKGS >/dev/null 2>&1 || echo "cleanup: dpkg --purge failed"
    fi
    # What a purge leaves in /run (the tmpfiles link) goes too: the machine is as before.
    [ -L /run/roster.sock ] && [ "$(readlink /run/roster.sock)" = /run/roster/roster.sock ] &&
        rm -f /run/roster.sock
    [ $systemd -eq 0 ] && rm -rf /run/roster
    [ $etc_was_there -eq 0 ] && rmdir /etc/roster 2>/dev/null
    # The system user stays, as Debian leaves users of purged packages.
}
trap cleanup EXIT
check() { if eval "$2"; then echo "ok: $1"; else echo "FAIL: $1"; fail=1; fi; }

out="$B/deb"
if ! DEB_OUT="$out" JOBS=2 bash "$SRC/scripts/make_deb.sh" "$SRC"; then
    echo "FAIL: make deb"; exit 1
fi
bad=$(grep '^[EW]:' "$out/lintian.txt")
check "lintian: no errors or warnings${bad:+ ($bad)}" '[ -z "$bad" ]'

debs=()
for p in $PKGS; do debs+=("$(ls "$out/${p}_"*.deb)"); done
installed=1
if ! dpkg -i "${debs[@]}" >"$out/dpkg.log" 2>&1; then
    cat "$out/dpkg.log"; echo "FAIL: dpkg -i"; exit 1
fi
check "user and group roster" "id roster >/dev/null && getent group roster >/dev/null"
check "/run/roster.sock links the unit's socket" '[ "$(readlink /run/roster.sock)" = /run/roster/roster.sock ]'
check "/etc/roster is root:roster 0750" '[ "$(stat -c %U:%G:%a /etc/roster)" = root:roster:750 ]'
check "man rosterd" "man -w rosterd >/dev/null 2>&1"
check "ldconfig knows libroster.so.4" "ldconfig -p | grep -q 'libroster.so.4 '"

unit=/lib/systemd/system/rosterd.service
if [ $systemd -eq 1 ]; then
    systemctl start rosterd
    check "systemctl start rosterd (Type=notify: returns once READY=1)" "systemctl is-active --quiet rosterd"
else
    # No systemd here: the unit's command as its user, in the directory systemd would make.
    echo "note: systemd is not running here: starting the unit's ExecStart by hand"
    exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
    install -d -m 0750 -o roster -g roster /run/roster
    XDG_CONFIG_HOME=/var/lib/roster setpriv --reuid=roster --regid=roster --init-groups \
        --inh-caps=-all $exec_start --log-level warn &
    pid=$!
fi
for _ in $(seq 200); do /usr/bin/rosterctl ping >/dev/null 2>&1 && break; sleep 0.05; done
check "installed rosterctl reaches the node through /run/roster.sock" "/usr/bin/rosterctl ping >/dev/null"

coproc REG { exec /usr/bin/rosterctl register pkg-test --meta from-deb; }
reg_pid=$REG_PID
read -r -t 10 held <&"${REG[0]}"
check "rosterctl register holds pkg-test ($held)" '[ -n "$held" ]'
check "rosterctl lookup sees it" "/usr/bin/rosterctl lookup pkg-test | grep -q \"\$held\""
py=$(cd / && timeout 20 /usr/bin/python3 -c '
import roster
with roster.Client() as c:
    e = c.lookup("pkg-test")
    print(roster.__file__, e.meta.decode())' 2>&1)
check "python3-roster sees it ($py)" \
    "[ \"\$py\" = '/usr/lib/python3/dist-packages/roster/__init__.py from-deb' ]"
exec {REG[1]}>&-
wait "$reg_pid"; reg_pid=

if [ $systemd -eq 1 ]; then systemctl stop rosterd; else kill "$pid" && wait "$pid"; pid=; fi
dpkg --purge $PKGS >"$out/purge.log" 2>&1 || { cat "$out/purge.log"; fail=1; }
installed=0
check "purged: no rosterd, rosterctl, libroster left" \
    "[ ! -e /usr/bin/rosterd ] && [ ! -e /usr/bin/rosterctl ] && ! ldconfig -p | grep -q libroster.so.4"
exit $fail
