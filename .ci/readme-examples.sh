#!/usr/bin/env bash
# Runs the README's examples, as written, against a freshly started suite. Fenced blocks whose
# info string is `sh example` must succeed; `sh example-fails` blocks must fail (they show a
# refusal, such as a duplicate customer). A `# expect: TEXT` line in a block must find TEXT in
# the block's output. Then, when node is installed, a third-party gRPC-Web client
# (tests/web-client) calls the suite through the gateway with the contracts built by buf.
set -euo pipefail
cd "$(dirname "$0")/.."
TOOLS="${CRM_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/crm-ci-tools}"
command -v grpcurl >/dev/null || { echo "grpcurl is not installed" >&2; exit 1; }
command -v curl >/dev/null || { echo "curl is not installed" >&2; exit 1; }

# shellcheck source=.ci/suite.sh
. .ci/suite.sh
work="$(mktemp -d)"
trap 'stop_suite; rm -rf "$work"' EXIT
start_suite "$work"
grpcurl -plaintext 127.0.0.1:50052 grpc.health.v1.Health/Check
curl -sS --fail-with-body http://127.0.0.1:8080/healthz
echo

python3 - "$work" <<'PY'
import re, subprocess, sys, pathlib
work = pathlib.Path(sys.argv[1])
readme = pathlib.Path("README.md").read_text()
blocks = re.findall(r"```sh (example(?:-fails)?)\n(.*?)```", readme, re.S)
if not blocks:
    sys.exit("README has no examples")
failed = 0
for i, (kind, body) in enumerate(blocks, 1):
    script = work / f"example{i}.sh"
    script.write_text("set -euo pipefail\n" + body)
    r = subprocess.run(["bash", str(script)], capture_output=True, text=True, cwd=work)
    ok = (r.returncode == 0) if kind == "example" else (r.returncode != 0)
    output = r.stdout + r.stderr
    for expected in re.findall(r"^# expect: (.+)$", body, re.M):
        if expected.strip() not in output:
            ok = False
            print(f"example {i}: expected {expected.strip()!r} in its output")
    first = body.strip().splitlines()[0]
    print(f"{'ok ' if ok else 'FAIL'} example {i} ({kind}): {first}")
    if not ok:
        failed += 1
        print(r.stdout[-2000:], r.stderr[-2000:], sep="\n")
print(f"{len(blocks) - failed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY

# A third-party gRPC-Web client (Connect for the web, reading the contracts from a descriptor
# set that buf builds) through the gateway.
if command -v node >/dev/null; then
  if [ ! -x "$TOOLS/buf-1.75.0/node_modules/.bin/buf" ]; then
    npm install --silent --no-audit --no-fund --prefix "$TOOLS/buf-1.75.0" @bufbuild/buf@1.75.0 >/dev/null
  fi
  npm ci --silent --no-audit --no-fund --prefix tests/web-client >/dev/null
  "$TOOLS/buf-1.75.0/node_modules/.bin/buf" build --as-file-descriptor-set -o "$work/crm.binpb"
  node tests/web-client/call.mjs "$work/crm.binpb"
else
  echo "node is not installed: skipping the gRPC-Web client (tests/web-client)"
fi
