#!/usr/bin/env bash
# Renders every kustomize overlay, validates each document against the Kubernetes schemas
# (strict: unknown fields are errors) and checks the properties every CRM service must have:
# native gRPC probes, resources, non-root read-only containers, no privilege escalation,
# capabilities dropped, Services exposing a port named grpc, spans sent to the collector where
# an overlay has one.
set -euo pipefail
cd "$(dirname "$0")/.."
TOOLS="${CRM_TOOLS_DIR:-$PWD/target/tools}"
K8S_VERSION="${CRM_K8S_VERSION:-1.33.0}"

command -v kubectl >/dev/null || { echo "kubectl is required (kubectl kustomize renders the overlays)" >&2; exit 1; }
if [ ! -x "$TOOLS/venv/bin/kubernetes-validate" ]; then
  [ -x "$TOOLS/venv/bin/python" ] || python3 -m venv "$TOOLS/venv"
  "$TOOLS/venv/bin/pip" install --quiet --disable-pip-version-check kubernetes-validate pyyaml
fi

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
for overlay in k8s/overlays/*/; do
  name="$(basename "$overlay")"
  kubectl kustomize "$overlay" >"$out/$name.yaml"
  echo "rendered $overlay: $(grep -c '^kind:' "$out/$name.yaml") documents"
  # One file per document, so a failure names the resource.
  "$TOOLS/venv/bin/python" - "$out/$name.yaml" "$out/$name" <<'PY'
import sys, yaml, os
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
os.makedirs(sys.argv[2], exist_ok=True)
for i, d in enumerate(docs):
    with open(os.path.join(sys.argv[2], f"{i:02d}-{d['kind']}-{d['metadata']['name']}.yaml"), "w") as f:
        yaml.safe_dump(d, f)
PY
  "$TOOLS/venv/bin/kubernetes-validate" --strict --quiet -k "$K8S_VERSION" "$out/$name"/*.yaml
  echo "schemas ($K8S_VERSION, strict): $name ok"
done

"$TOOLS/venv/bin/python" - "$out"/*.yaml <<'PY'
import sys, yaml
failures = []
checks = 0
def check(ok, what):
    global checks
    checks += 1
    if not ok:
        failures.append(what)
for path in sys.argv[1:]:
    docs = [d for d in yaml.safe_load_all(open(path)) if d]
    collector = any(d["kind"] == "Deployment" and d["metadata"]["name"] == "otel-collector" for d in docs)
    for d in docs:
        kind, name = d["kind"], d["metadata"]["name"]
        where = f"{path.rsplit('/', 1)[-1]}: {kind}/{name}"
        if kind in ("Deployment", "StatefulSet"):
            spec = d["spec"]["template"]["spec"]
            service = d["metadata"]["labels"].get("app.kubernetes.io/component") == "service"
            pod_sc = spec.get("securityContext", {})
            check(spec.get("automountServiceAccountToken") is False, f"{where}: automountServiceAccountToken must be false")
            check(pod_sc.get("runAsNonRoot") is True, f"{where}: pod must run as non-root")
            check(pod_sc.get("seccompProfile", {}).get("type") == "RuntimeDefault", f"{where}: seccomp RuntimeDefault")
            for c in spec["containers"]:
                sc = c.get("securityContext", {})
                cw = f"{where} container {c['name']}"
                res = c.get("resources", {})
                check(all(k in res.get("requests", {}) for k in ("cpu", "memory")), f"{cw}: cpu and memory requests")
                check(all(k in res.get("limits", {}) for k in ("cpu", "memory")), f"{cw}: cpu and memory limits")
                check(sc.get("allowPrivilegeEscalation") is False, f"{cw}: allowPrivilegeEscalation false")
                check("ALL" in sc.get("capabilities", {}).get("drop", []), f"{cw}: capabilities drop ALL")
                check(sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot")) is True, f"{cw}: non-root")
                if service:
                    check(sc.get("readOnlyRootFilesystem") is True, f"{cw}: readOnlyRootFilesystem")
                    ports = {p.get("name"): p["containerPort"] for p in c.get("ports", [])}
                    check("grpc" in ports, f"{cw}: a container port named grpc")
                    if collector:
                        env = {e["name"]: e.get("value") for e in c.get("env", [])}
                        check(env.get("OTEL_EXPORTER_OTLP_ENDPOINT") == "http://otel-collector:4317", f"{cw}: spans exported to the collector")
                    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                        p = c.get(probe, {})
                        check("grpc" in p and p["grpc"].get("port") == ports.get("grpc"), f"{cw}: native gRPC {probe} on the grpc port")
        if kind == "Service" and d["metadata"]["labels"].get("app.kubernetes.io/component") == "service":
            names = [p.get("name") for p in d["spec"]["ports"]]
            check("grpc" in names, f"{where}: a port named grpc")
for f in failures:
    print("FAIL", f)
print(f"k8s properties: {checks - len(failures)} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
PY
