#!/usr/bin/env bash
# Renders every kustomize overlay, validates each document against the Kubernetes schemas
# (strict: unknown fields are errors) and checks the properties every CRM service must have:
# native gRPC probes, resources, non-root read-only containers, no privilege escalation,
# capabilities dropped, Services exposing a port named grpc, spans sent to the collector where
# an overlay has one; and those of the gateway: present in every overlay, HTTP probes on
# /healthz (startup, liveness) and /readyz (readiness), a Service port named http, the upstreams
# named, replicas left to a HorizontalPodAutoscaler (autoscaling/v2, CPU, at least 2).
set -euo pipefail
cd "$(dirname "$0")/.."
K8S_VERSION="${CRM_K8S_VERSION:-1.33.0}"

command -v kubectl >/dev/null || { echo "kubectl is required (kubectl kustomize renders the overlays)" >&2; exit 1; }
# The virtualenv .ci/run makes from .ci/python-tools.txt; run alone, one of its own.
VENV="${CRM_CI_VENV:-$PWD/target/ci-venv}"
if [ ! -x "$VENV/bin/kubernetes-validate" ]; then
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r .ci/python-tools.txt
fi

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
for overlay in k8s/overlays/*/; do
  name="$(basename "$overlay")"
  kubectl kustomize "$overlay" >"$out/$name.yaml"
  echo "rendered $overlay: $(grep -c '^kind:' "$out/$name.yaml") documents"
  # One file per document, so a failure names the resource. Operator resources (CloudNativePG
  # Clusters) have no schema here: they are kept aside and checked by their properties below.
  "$VENV/bin/python" - "$out/$name.yaml" "$out/$name" <<'PY'
import sys, yaml, os
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
os.makedirs(sys.argv[2], exist_ok=True)
os.makedirs(sys.argv[2] + "-operator", exist_ok=True)
for i, d in enumerate(docs):
    group = d["apiVersion"].split("/")[0] if "/" in d["apiVersion"] else ""
    core = "." not in group or group.endswith(".k8s.io")
    folder = sys.argv[2] if core else sys.argv[2] + "-operator"
    with open(os.path.join(folder, f"{i:02d}-{d['kind']}-{d['metadata']['name']}.yaml"), "w") as f:
        yaml.safe_dump(d, f)
PY
  "$VENV/bin/kubernetes-validate" --strict --quiet -k "$K8S_VERSION" "$out/$name"/*.yaml
  echo "schemas ($K8S_VERSION, strict): $name ok ($(ls "$out/$name-operator" | wc -l) operator resources, checked by property below)"
done

"$VENV/bin/python" - "$out"/*.yaml <<'PY'
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
    overlay = path.rsplit('/', 1)[-1]
    deployments = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Deployment"}
    hpas = [d for d in docs if d["kind"] == "HorizontalPodAutoscaler"]
    check("gateway" in deployments, f"{overlay}: a Deployment named gateway")
    check(any(d["kind"] == "Service" and d["metadata"]["name"] == "gateway" for d in docs), f"{overlay}: a Service named gateway")
    for h in hpas:
        where = f"{overlay}: HorizontalPodAutoscaler/{h['metadata']['name']}"
        ref = h["spec"]["scaleTargetRef"]
        check(h["apiVersion"] == "autoscaling/v2", f"{where}: autoscaling/v2")
        check(ref.get("kind") == "Deployment" and ref.get("name") in deployments, f"{where}: scales a Deployment of this overlay")
        if ref.get("name") in deployments:
            # A replica count in the Deployment would reset the autoscaler's on every apply.
            check("replicas" not in deployments[ref["name"]]["spec"], f"{where}: {ref['name']} leaves replicas to the autoscaler")
    gateway_hpa = [h for h in hpas if h["spec"]["scaleTargetRef"].get("name") == "gateway"]
    check(len(gateway_hpa) == 1, f"{overlay}: one HorizontalPodAutoscaler for the gateway")
    for h in gateway_hpa:
        where = f"{overlay}: HorizontalPodAutoscaler/{h['metadata']['name']}"
        check(h["spec"].get("minReplicas", 1) >= 2, f"{where}: at least 2 replicas")
        check(h["spec"]["maxReplicas"] >= h["spec"].get("minReplicas", 1), f"{where}: maxReplicas >= minReplicas")
        check(any(m.get("type") == "Resource" and m["resource"]["name"] == "cpu" for m in h["spec"].get("metrics", [])), f"{where}: scales on CPU")
    for d in docs:
        kind, name = d["kind"], d["metadata"]["name"]
        where = f"{path.rsplit('/', 1)[-1]}: {kind}/{name}"
        if kind in ("Deployment", "StatefulSet"):
            spec = d["spec"]["template"]["spec"]
            service = d["metadata"]["labels"].get("app.kubernetes.io/component") == "service"
            gateway = d["metadata"]["labels"].get("app.kubernetes.io/component") == "gateway"
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
                if gateway:
                    check(sc.get("readOnlyRootFilesystem") is True, f"{cw}: readOnlyRootFilesystem")
                    ports = {p.get("name"): p["containerPort"] for p in c.get("ports", [])}
                    check("http" in ports, f"{cw}: a container port named http")
                    env = {e["name"]: e.get("value") for e in c.get("env", [])}
                    check(env.get("CRM_LISTEN", "").endswith(f":{ports.get('http')}"), f"{cw}: CRM_LISTEN on the http port")
                    upstreams = dict(u.split("=", 1) for u in (env.get("CRM_GATEWAY_UPSTREAMS") or "").split(",") if "=" in u)
                    services = {x["metadata"]["name"] for x in docs if x["kind"] == "Service" and x["metadata"]["labels"].get("app.kubernetes.io/component") == "service"}
                    check(services and services <= set(upstreams), f"{cw}: CRM_GATEWAY_UPSTREAMS names every service ({sorted(services)})")
                    if collector:
                        check(env.get("OTEL_EXPORTER_OTLP_ENDPOINT") == "http://otel-collector:4317", f"{cw}: spans exported to the collector")
                    for probe, path in (("startupProbe", "/healthz"), ("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
                        get = c.get(probe, {}).get("httpGet", {})
                        check(get.get("path") == path and get.get("port") in ("http", ports.get("http")), f"{cw}: {probe} GET {path} on the http port")
        if kind == "Service" and d["metadata"]["labels"].get("app.kubernetes.io/component") == "service":
            names = [p.get("name") for p in d["spec"]["ports"]]
            check("grpc" in names, f"{where}: a port named grpc")
        if kind == "Service" and d["metadata"]["labels"].get("app.kubernetes.io/component") == "gateway":
            names = [p.get("name") for p in d["spec"]["ports"]]
            check("http" in names, f"{where}: a port named http")
    # Every pod (the CRM's, and the database and collector where an overlay has them) has an
    # ingress NetworkPolicy selecting it, every service and the gateway a PodDisruptionBudget, and
    # the calls the contracts need are the only ones let in.
    def selects(selector, labels):
        wanted = selector.get("matchLabels", {})
        return bool(wanted) and all(labels.get(k) == v for k, v in wanted.items())
    pdbs = [d for d in docs if d["kind"] == "PodDisruptionBudget"]
    policies = [d for d in docs if d["kind"] == "NetworkPolicy"]
    workloads = {d["metadata"]["name"]: d for d in docs if d["kind"] in ("Deployment", "StatefulSet")}
    for name, w in workloads.items():
        labels = w["spec"]["template"]["metadata"]["labels"]
        where = f"{overlay}: {w['kind']}/{name}"
        mine = [n for n in policies if selects(n["spec"]["podSelector"], labels) and "Ingress" in n["spec"].get("policyTypes", [])]
        check(len(mine) == 1, f"{where}: one ingress NetworkPolicy selects its pods")
        if labels.get("app.kubernetes.io/component") in ("service", "gateway"):
            check(sum(selects(b["spec"]["selector"], labels) for b in pdbs) == 1, f"{where}: one PodDisruptionBudget selects its pods")
    def callers(name):
        out = set()
        for n in policies:
            if n["spec"]["podSelector"].get("matchLabels", {}).get("app.kubernetes.io/name") != name:
                continue
            for rule in n["spec"].get("ingress", []):
                if "from" not in rule:
                    out.add("*")
                for peer in rule.get("from", []):
                    out.add(peer.get("podSelector", {}).get("matchLabels", {}).get("app.kubernetes.io/name", "crm"))
        return out
    expected = {"gateway": {"*"}, "identity": {"gateway", "customers", "sales"}, "customers": {"gateway", "sales", "identity"}, "sales": {"gateway", "identity"}}
    for name, want in expected.items():
        if name in workloads:
            check(callers(name) == want, f"{overlay}: {name} is reached by {sorted(want)} only (policies let in {sorted(callers(name))})")
    # Where an overlay has CloudNativePG Clusters, each service reads its database URL from its
    # own Cluster's application Secret, and each Cluster has a replica to fail over to.
    clusters = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Cluster" and d["apiVersion"].startswith("postgresql.cnpg.io/")}
    if clusters:
        for name, w in deployments.items():
            if w["spec"]["template"]["metadata"]["labels"].get("app.kubernetes.io/component") != "service":
                continue
            env = {e["name"]: e for c in w["spec"]["template"]["spec"]["containers"] for e in c.get("env", [])}
            ref = env.get("CRM_DATABASE_URL", {}).get("valueFrom", {}).get("secretKeyRef", {})
            cluster = clusters.get(f"{name}-db")
            where = f"{overlay}: Deployment/{name}"
            check(cluster is not None, f"{where}: a CloudNativePG Cluster {name}-db")
            check(ref == {"name": f"{name}-db-app", "key": "uri"}, f"{where}: CRM_DATABASE_URL from Secret {name}-db-app key uri (got {ref})")
            if cluster:
                check(cluster["spec"].get("instances", 1) >= 2, f"{overlay}: Cluster/{name}-db has a replica (instances >= 2)")
                check(cluster["spec"].get("bootstrap", {}).get("initdb", {}).get("database") == name, f"{overlay}: Cluster/{name}-db creates the database {name}")
for f in failures:
    print("FAIL", f)
print(f"k8s properties: {checks - len(failures)} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
PY
