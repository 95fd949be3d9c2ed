#!/usr/bin/env bash
# Installs the Debian packages roster needs to build and test, only if any is missing.
# Runs `apt-get update` once, then `apt-get install -y`; needs root when something is missing.
set -euo pipefail
# libsodium-dev: peer authentication and sealed peer links (rosterd); libssl-dev + openssl:
# rosterd --peer-tls-* (TLS on peer links) and the certificates its tests make; iproute2 + nftables: the cluster tests' own
# network namespace and the packet-dropping partition rules.
# etcd-server, libgrpc-dev, protobuf-c: strong scopes' etcd client (src/etcd) and its tests,
# which start their own etcd members on free loopback ports.
# libmicrohttpd-dev: rosterd --http (Prometheus metrics, src/node/http.c).
# libsystemd-dev: sd_notify READY=1 / WATCHDOG=1 (src/node/sdnotify.c); systemd (its
# systemd-analyze), man-db + groff-base: the pkg tests check the unit's sandbox and render
# the man pages; python3: the man page generator and the Python binding's tests; zsh: the
# zsh completion's test.
# chromium, nodejs, npm: the dashboard's browser test (tests/browser: playwright-core from
# npm drives Debian's chromium; it never downloads a browser of its own).
pkgs=(build-essential cmake pkg-config libuv1-dev libsodium-dev libssl-dev openssl libmicrohttpd-dev clang libclang-rt-14-dev llvm valgrind
      iproute2 nftables etcd-server libgrpc-dev protobuf-c-compiler libprotobuf-c-dev
      python3 libsystemd-dev systemd man-db groff-base zsh chromium)
# node and npm may come from elsewhere than Debian (a newer Node.js whose package conflicts
# with Debian's npm): Debian's are installed only when the commands are missing.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  pkgs+=(nodejs npm)
fi
here=$(cd "$(dirname "$0")/.." && pwd)
# browser_deps installs tests/browser's package.json (exact versions) with npm, once.
browser_deps() {
  if command -v npm >/dev/null && [ ! -d "$here/tests/browser/node_modules/playwright-core" ]; then
    echo "deps: npm install in tests/browser"
    (cd "$here/tests/browser" && npm install --no-audit --no-fund --loglevel=error) ||
      echo "deps: npm install failed: the browser test will skip" >&2
  fi
}
# `deps.sh bench`: also the NATS server and C client, the reference in `make bench`.
if [ "${1:-}" = "bench" ]; then
  pkgs+=(nats-server libnats-dev)
fi
# `deps.sh deb`: what `make deb` needs (debhelper builds the packages, lintian checks them).
if [ "${1:-}" = "deb" ]; then
  pkgs+=(debhelper dpkg-dev fakeroot lintian)
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then browser_deps; exit 0; fi
echo "deps: installing ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "deps: missing packages (${missing[*]}) and not root; install them with apt-get" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
# Debian's etcd-server starts a system etcd on 2379 where services may start. roster's tests
# never use it (they run their own members), so one installed here is stopped and disabled.
if [[ " ${missing[*]} " == *" etcd-server "* ]] && command -v systemctl >/dev/null &&
   systemctl is-active --quiet etcd 2>/dev/null; then
  systemctl disable --now etcd >/dev/null 2>&1 || true
fi
browser_deps
