# Sourced by the CI scripts that call a running suite: `start_suite DIR` builds `crm`, starts it
# on its ports (50051-50053, 50055 and 8080, or CRM_IDENTITY_ADDR, CRM_CUSTOMERS_ADDR,
# CRM_SALES_ADDR, CRM_WAREHOUSE_ADDR and CRM_GATEWAY_ADDR) with its data under DIR/data and its log in DIR/suite.log, and returns
# once every service and the gateway answer their health checks; `stop_suite` stops it. The
# administrator's password is in CRM_ADMIN_PASSWORD, the gateway's base URL in GATEWAY_URL.

# The scripts sign in with the administrator password the first start was given.
export CRM_ADMIN_PASSWORD="${CRM_ADMIN_PASSWORD:-ci-$RANDOM-$RANDOM-password}"
# Sign-ins follow each other within seconds: more from one address than the gateway's
# public-method burst lets through (a user working by hand stays well inside it).
export CRM_GATEWAY_PUBLIC_BURST="${CRM_GATEWAY_PUBLIC_BURST:-500}"

# The README's metrics example scrapes the suite's metrics port.
export CRM_METRICS_ADDR="${CRM_METRICS_ADDR:-127.0.0.1:9464}"

GATEWAY_URL="http://${CRM_GATEWAY_ADDR:-127.0.0.1:8080}"

suite_healthy() {
  grpcurl -plaintext "${CRM_WAREHOUSE_ADDR:-127.0.0.1:50055}" grpc.health.v1.Health/Check >/dev/null 2>&1 \
    && grpcurl -plaintext "${CRM_SALES_ADDR:-127.0.0.1:50053}" grpc.health.v1.Health/Check >/dev/null 2>&1 \
    && grpcurl -plaintext "${CRM_CUSTOMERS_ADDR:-127.0.0.1:50052}" grpc.health.v1.Health/Check >/dev/null 2>&1 \
    && grpcurl -plaintext "${CRM_IDENTITY_ADDR:-127.0.0.1:50051}" grpc.health.v1.Health/Check >/dev/null 2>&1 \
    && curl -sf "$GATEWAY_URL/healthz" >/dev/null 2>&1
}

# The fixed ports lie in the OS's ephemeral range: a client socket of another program can
# briefly hold one. A start that fails to bind is retried.
start_suite() {
  local dir="$1" attempt
  cargo build --locked -p crm-suite --bin crm
  for attempt in 1 2 3 4 5; do
    target/debug/crm --data-dir "$dir/data" --log-format json >"$dir/suite.log" 2>&1 &
    suite_pid=$!
    for _ in $(seq 1 60); do
      suite_healthy && return 0
      kill -0 "$suite_pid" 2>/dev/null || break
      sleep 1
    done
    stop_suite
    if [ "$attempt" = 5 ] || ! grep -qi "address already in use\|addrinuse" "$dir/suite.log"; then
      echo "the suite did not start:" >&2
      cat "$dir/suite.log" >&2
      return 1
    fi
    echo "a suite port was taken; starting again ($attempt)" >&2
    sleep 3
  done
}

stop_suite() {
  kill "${suite_pid:-}" 2>/dev/null || true
  wait "${suite_pid:-}" 2>/dev/null || true
}
