#!/usr/bin/env bash
# test_man_pages.sh: the committed man pages (docs/man) are the rendering of their docs
# (scripts/gen_man.py --check), and `man -l` renders each without a warning other than
# line adjustment (which depends on the width) and with its NAME section.
# Usage: test_man_pages.sh SRCDIR
set -u
SRC=$1
fail=0
python3 "$SRC/scripts/gen_man.py" --check "$SRC/docs/man" || fail=1
if ! command -v man >/dev/null; then
    echo "skip: man is not installed (Debian package man-db): pages not rendered"
    exit $((fail ? 1 : 77))
fi
for page in rosterd.8 rosterctl.1 roster.3; do
    f="$SRC/docs/man/$page"
    text=$(MANWIDTH=80 man --warnings=w -l "$f" 2>"${TMPDIR:-/tmp}/man-$$.err")
    rc=$?
    warn=$(grep -v -e 'cannot adjust line' -e 'cannot break line' "${TMPDIR:-/tmp}/man-$$.err")
    rm -f "${TMPDIR:-/tmp}/man-$$.err"
    if [ $rc -ne 0 ] || [ -n "$warn" ] || ! printf '%s\n' "$text" | grep -q '^NAME'; then
        echo "FAIL: man -l $page (status $rc): $warn"
        fail=1
    else
        echo "ok: man -l $page: $(printf '%s\n' "$text" | wc -l) lines"
    fi
done
exit $fail
