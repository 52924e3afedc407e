#!/usr/bin/env bash
# Runs the README's examples, as written, against a freshly started suite. Fenced blocks whose
# info string is `sh example` must succeed; `sh example-fails` blocks must fail (they show a
# refusal, such as a duplicate customer). A `# expect: TEXT` line in a block must find TEXT in
# the block's output.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v grpcurl >/dev/null || { echo "grpcurl is not installed" >&2; exit 1; }

work="$(mktemp -d)"
trap 'kill "$suite_pid" 2>/dev/null || true; wait "$suite_pid" 2>/dev/null || true; rm -rf "$work"' EXIT

cargo build --locked -p crm-suite --bin crm
# The README's sign-in examples use the administrator password the first start was given.
export CRM_ADMIN_PASSWORD="readme-example-$RANDOM-password"
target/debug/crm --data-dir "$work/data" --log-format json >"$work/suite.log" 2>&1 &
suite_pid=$!
for _ in $(seq 1 60); do
  if grpcurl -plaintext 127.0.0.1:50052 grpc.health.v1.Health/Check >/dev/null 2>&1 \
    && grpcurl -plaintext 127.0.0.1:50051 grpc.health.v1.Health/Check >/dev/null 2>&1; then break; fi
  sleep 1
done
grpcurl -plaintext 127.0.0.1:50052 grpc.health.v1.Health/Check

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
