#!/usr/bin/env bash
# run.sh BUILD_DIR [SCREENSHOT_DIR]: the dashboard's browser test (dash_test.js) when this
# machine can run it; otherwise exits 77 (ctest: skipped) saying what is missing.
set -u
here=$(cd "$(dirname "$0")" && pwd)
build=${1:?usage: run.sh BUILD_DIR [SCREENSHOT_DIR]}
shots=${2:-$build/browser-shots}
chromium=${CHROMIUM:-/usr/bin/chromium}
if ! command -v node >/dev/null; then echo "SKIP: node is not installed (scripts/deps.sh)"; exit 77; fi
if [ ! -x "$chromium" ]; then echo "SKIP: no chromium at $chromium (scripts/deps.sh)"; exit 77; fi
if [ ! -d "$here/node_modules/playwright-core" ]; then
  echo "SKIP: playwright-core not installed in tests/browser (scripts/deps.sh runs npm install)"
  exit 77
fi
exec node "$here/dash_test.js" "$build/bin" "$shots" "$chromium"
