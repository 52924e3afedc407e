#!/usr/bin/env bash
# The web console in a real browser: Debian's chromium (and a CJK font, so the Chinese screens
# are legible in the screenshots), installed when missing; a suite started as the README says;
# web/console/e2e run against it with playwright-core. Screenshots of each screen in each
# language go to target/screenshots.
set -euo pipefail
cd "$(dirname "$0")/.."
# (grep reads all of fc-list's output: with -q it would stop early and pipefail would fail.)
if ! command -v chromium >/dev/null || [ -z "$(fc-list 2>/dev/null | grep -i 'noto sans cjk' || true)" ]; then
  echo "installing chromium and fonts-noto-cjk (Debian packages)"
  apt-get install -y -q chromium fonts-noto-cjk >/dev/null
fi
. .ci/suite.sh
work="$(mktemp -d)"
trap 'stop_suite; rm -rf "$work"' EXIT
start_suite "$work"
mkdir -p target/screenshots
[ -d web/console/node_modules ] || (cd web/console && npm ci --silent --no-audit --no-fund)
CRM_GATEWAY_URL="$GATEWAY_URL" CRM_SCREENSHOTS="$PWD/target/screenshots" CRM_CHROMIUM="$(command -v chromium)" \
  node --test --test-concurrency=1 web/console/e2e/*.browser.mjs
echo "screenshots: $(ls target/screenshots | tr '\n' ' ')"
# The console's timings benchmark, small: it runs, not how fast (README: Benchmarks has the figures
# at a million customers).
CRM_CHROMIUM="$(command -v chromium)" node tests/bench/console.mjs --smoke --seed 200 --gateway "$GATEWAY_URL" --password "$CRM_ADMIN_PASSWORD"
