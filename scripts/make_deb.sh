#!/usr/bin/env bash
# make_deb.sh: `make deb`. Builds the Debian packages (rosterd, rosterctl, libroster1,
# libroster-dev, python3-roster) with debhelper from a copy of the working tree in
# build-deb/ (dpkg-buildpackage writes its results beside the source, so the tree itself
# stays clean), then runs lintian on them. The packaging is packaging/debian/, copied in as
# debian/. Result: build-deb/*.deb and build-deb/lintian.txt.
# Usage: make_deb.sh [SRCDIR]   (JOBS=N for parallel builds; DEB_OUT=DIR instead of build-deb)
set -euo pipefail
SRC=$(cd "${1:-.}" && pwd)
OUT="${DEB_OUT:-$SRC/build-deb}"
ver=$(sed -n '1s/^roster (\([^)]*\)).*/\1/p' "$SRC/packaging/debian/changelog")
stage="$OUT/roster-$ver"
rm -rf "$OUT"
mkdir -p "$stage"
# Tracked and new files, without the build trees and what .gitignore leaves out.
(cd "$SRC" && git ls-files -co --exclude-standard -z | grep -zv '^build' |
    tar --null -T - -cf -) | tar -C "$stage" -xf -
cp -a "$SRC/packaging/debian" "$stage/debian"
# One sysusers file for both installs: dh_installsysusers wants it as debian/PKG.sysusers.
cp "$SRC/packaging/systemd/rosterd.sysusers" "$stage/debian/rosterd.sysusers"
(cd "$stage" && DEB_BUILD_OPTIONS="nocheck parallel=${JOBS:-2}" \
    dpkg-buildpackage -b -uc -us >"$OUT/build.log" 2>&1) || {
    tail -40 "$OUT/build.log" >&2
    echo "make deb: dpkg-buildpackage failed (build-deb/build.log)" >&2
    exit 1
}
ls "$OUT"/*.deb
if command -v lintian >/dev/null; then
    lintian --info --display-info "$OUT"/*.changes >"$OUT/lintian.txt" 2>&1 || true
    echo "lintian: $(grep -c '^[EW]:' "$OUT/lintian.txt" || true) error(s)/warning(s) (build-deb/lintian.txt)"
    grep '^[EW]:' "$OUT/lintian.txt" || true
fi
