#!/usr/bin/env bash
# The web console (web/console): installs its locked dependencies, generates its client code
# from proto/ (a contract change that breaks the console fails here), type-checks it, runs its
# unit tests, builds it, and checks the build is exactly the committed web/console/dist that the
# gateway embeds (so `cargo run` on a fresh clone serves what the sources say).
set -euo pipefail
cd "$(dirname "$0")/../web/console"
command -v npm >/dev/null || { echo "node and npm are required for the web console" >&2; exit 1; }
npm ci --silent --no-audit --no-fund
npm run --silent generate
npx tsc --noEmit
npx vitest run
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
npx vite build --outDir "$out/dist" --emptyOutDir --logLevel warn
if ! diff -r "$out/dist" dist; then
  echo "web/console/dist is not what the sources build: run 'npm run build' in web/console and commit dist/" >&2
  exit 1
fi
# The first screen's JavaScript (the page's own script, without the chunks loaded later).
first=$(sed -n 's/.*<script[^>]*src="\([^"]*\)".*/\1/p' dist/index.html | head -n1)
size=$(gzip -c "dist$first" | wc -c)
echo "web console: built as committed; first screen's JavaScript $((size / 1024)) KB gzipped (budget 300 KB)"
[ "$size" -le $((300 * 1024)) ] || { echo "the first screen's JavaScript is over its 300 KB budget" >&2; exit 1; }
