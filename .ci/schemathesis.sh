#!/usr/bin/env bash
# Schemathesis against the OpenAPI document the gateway serves, on a freshly started suite:
# requests generated from every operation's schemas, sent signed in as the administrator (the
# hooks in .ci/schemathesis_hooks.py sign in over REST and keep the run from locking the
# administrator out), failing on any 5xx answer (`not_a_server_error`) and on any answer that
# does not match the document (`response_schema_conformance`). Bounded in time: SCHEMATHESIS_SECONDS (default 150)
# of generated requests, a few examples per operation, 10 s at most per request.
# Needs schemathesis (pinned in .ci/run), grpcurl and curl on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v schemathesis >/dev/null || { echo "schemathesis is not installed" >&2; exit 1; }
command -v grpcurl >/dev/null || { echo "grpcurl is not installed" >&2; exit 1; }
command -v curl >/dev/null || { echo "curl is not installed" >&2; exit 1; }

# shellcheck source=.ci/suite.sh
. .ci/suite.sh
report="$(realpath -m "${SCHEMATHESIS_REPORT_DIR:-target/schemathesis}")"
mkdir -p "$report"
work="$(mktemp -d)"
# The suite's log stays beside the report.
trap 'stop_suite; cp "$work/suite.log" "$report/suite.log" 2>/dev/null || true; rm -rf "$work"' EXIT
start_suite "$work"

# The administrator can sign in: the hooks need that for every request.
curl -sS --fail-with-body -o /dev/null -X POST "$GATEWAY_URL/v1/auth/login" \
  -H 'content-type: application/json' \
  -d '{"login":"admin","password":"'"$CRM_ADMIN_PASSWORD"'"}'

# The gateway lets one employee make 50 calls a second (bursts of 100); the run stays under
# that so the generated requests reach the services rather than the rate limiter. It runs in
# the scratch directory, where it leaves its cache.
status=0
hooks="$PWD/.ci/schemathesis_hooks.py"
(cd "$work" && GATEWAY_URL="$GATEWAY_URL" SCHEMATHESIS_HOOKS="$hooks" \
  schemathesis run "$GATEWAY_URL/openapi.json" \
  --checks not_a_server_error,response_schema_conformance \
  --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-5}" \
  --max-time "${SCHEMATHESIS_SECONDS:-150}" \
  --rate-limit 45/s \
  --request-timeout 10 \
  --no-color \
  --generation-database none \
  ${SCHEMATHESIS_SEED:+--seed "$SCHEMATHESIS_SEED"} \
  --report junit --report-junit-path "$report/junit.xml") \
  || status=$?
if [ "$status" != 0 ]; then
  echo "schemathesis failed (exit $status); the suite's log:" >&2
  grep -E '"level":"(ERROR|WARN)"' "$work/suite.log" | tail -n 50 >&2 || true
fi
exit "$status"
