#!/usr/bin/env bash
# Renders every kustomize overlay, validates each document against the Kubernetes schemas
# (strict: unknown fields are errors) and checks the properties every CRM service must have:
# native gRPC probes, resources, non-root read-only containers, no privilege escalation,
# capabilities dropped, Services exposing a port named grpc, spans sent to the collector where
# an overlay has one; and those of the gateway: present in every overlay, HTTP probes on
# /healthz (startup, liveness) and /readyz (readiness), a Service port named http, the upstreams
# named, replicas left to a HorizontalPodAutoscaler (autoscaling/v2, CPU, at least 2). Every
# service and the gateway serves metrics on a port named metrics (CRM_METRICS_ADDR), which only
# the monitoring namespace may reach. Where an overlay has the monitoring component: a PodMonitor
# scraping every CRM pod's metrics port, alerts that each carry a for, a severity, a summary, a
# description and a runbook in the README, and a Grafana dashboard of valid JSON with a row per
# service, the gateway and the events; every metric name an alert or a panel uses is listed in
# k8s/components/monitoring/metrics.txt (and nothing else is). Where an overlay has CloudNativePG
# Clusters: each backed up (WAL archive and base backups to an object store, a retention policy)
# with a ScheduledBackup, the store's keys read from a Secret the overlay does not carry.
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
import json, os, re, sys, yaml
failures = []
checks = 0
def check(ok, what):
    global checks
    checks += 1
    if not ok:
        failures.append(what)
def matches(selector, labels):
    """Whether a label selector (matchLabels and matchExpressions) selects these labels."""
    ok = all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items())
    for e in selector.get("matchExpressions", []):
        key, op, values = e["key"], e["operator"], e.get("values", [])
        ok = ok and {"In": labels.get(key) in values, "NotIn": labels.get(key) not in values,
                     "Exists": key in labels, "DoesNotExist": key not in labels}[op]
    return ok and bool(selector.get("matchLabels") or selector.get("matchExpressions"))
# The README's section anchors (as GitHub makes them from headings), for the alerts' runbooks.
anchors, fenced = set(), False
for line in open("README.md"):
    if line.startswith("```"):
        fenced = not fenced
    elif not fenced and line.startswith("#"):
        title = line.lstrip("#").strip().lower()
        anchors.add(re.sub(r"[^\w\- ]", "", title).replace(" ", "-"))
METRICS_TXT = "k8s/components/monitoring/metrics.txt"
listed = [l.strip() for l in open(METRICS_TXT) if l.strip()] if os.path.exists(METRICS_TXT) else []
used = set()
CRM_METRIC = re.compile(r"(rpc_|http_|db_|crm_)[A-Za-z0-9_:]*|up")
def metric_names(expr):
    """The metric names a PromQL expression reads: identifiers outside strings, label matchers,
    ranges and by/on clauses that are not function calls."""
    e = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'', '""', expr)
    e = re.sub(r"\{[^{}]*\}", "{}", e)
    e = re.sub(r"\[[^\[\]]*\]", "[]", e)
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)", r"\1()", e)
    return {m.group(1) for m in re.finditer(r"(?<![\w$.:])([A-Za-z_:][\w:]*)\b(?!\s*\()", e) if CRM_METRIC.fullmatch(m.group(1))}
def balanced(expr):
    e, depth = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr), []
    for ch in e:
        if ch in "({[":
            depth.append(ch)
        elif ch in ")}]":
            if not depth or "({[".index(depth.pop()) != ")}]".index(ch):
                return False
    return not depth
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
        where = f"{overlay}: {kind}/{name}"
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
                    env = {e["name"]: e.get("value") for e in c.get("env", [])}
                    check("metrics" in ports, f"{cw}: a container port named metrics")
                    check((env.get("CRM_METRICS_ADDR") or "").endswith(f":{ports.get('metrics')}"), f"{cw}: CRM_METRICS_ADDR on the metrics port")
                    if collector:
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
                    check("metrics" in ports, f"{cw}: a container port named metrics")
                    check((env.get("CRM_METRICS_ADDR") or "").endswith(f":{ports.get('metrics')}"), f"{cw}: CRM_METRICS_ADDR on the metrics port")
                    upstreams = dict(u.split("=", 1) for u in (env.get("CRM_GATEWAY_UPSTREAMS") or "").split(",") if "=" in u)
                    services = {x["metadata"]["name"] for x in docs if x["kind"] == "Service" and x["metadata"]["labels"].get("app.kubernetes.io/component") == "service"}
                    check(services and services <= set(upstreams), f"{cw}: CRM_GATEWAY_UPSTREAMS names every service ({sorted(services)})")
                    if collector:
                        check(env.get("OTEL_EXPORTER_OTLP_ENDPOINT") == "http://otel-collector:4317", f"{cw}: spans exported to the collector")
                    for probe, route in (("startupProbe", "/healthz"), ("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
                        get = c.get(probe, {}).get("httpGet", {})
                        check(get.get("path") == route and get.get("port") in ("http", ports.get("http")), f"{cw}: {probe} GET {route} on the http port")
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
    def metrics_only(rule):
        return bool(rule.get("ports")) and all(p.get("port") == "metrics" for p in rule["ports"])
    def callers(name):
        out = set()
        for n in policies:
            if n["spec"]["podSelector"].get("matchLabels", {}).get("app.kubernetes.io/name") != name:
                continue
            for rule in n["spec"].get("ingress", []):
                if metrics_only(rule):
                    continue
                if "from" not in rule:
                    out.add("*")
                for peer in rule.get("from", []):
                    out.add(peer.get("podSelector", {}).get("matchLabels", {}).get("app.kubernetes.io/name", "crm"))
        return out
    expected = {"gateway": {"*"}, "identity": {"gateway", "customers", "sales", "warehouse"}, "customers": {"gateway", "sales", "identity"}, "sales": {"gateway", "identity"}, "warehouse": {"gateway"}}
    for name, want in expected.items():
        if name in workloads:
            check(callers(name) == want, f"{overlay}: {name} is reached by {sorted(want)} only (policies let in {sorted(callers(name))})")
    # The metrics port: let in from one namespace, named, the same for every pod (where
    # Prometheus runs), and by no other rule.
    scrapers = set()
    crm_pods = {n: w for n, w in workloads.items() if w["spec"]["template"]["metadata"]["labels"].get("app.kubernetes.io/component") in ("service", "gateway")}
    for name, w in crm_pods.items():
        labels = w["spec"]["template"]["metadata"]["labels"]
        where = f"{overlay}: {w['kind']}/{name}"
        rules = [r for n in policies if matches(n["spec"]["podSelector"], labels) for r in n["spec"].get("ingress", [])]
        scrape = [r for r in rules if metrics_only(r)]
        check(len(scrape) == 1, f"{where}: one ingress rule for the metrics port")
        for r in scrape:
            peers = r.get("from", [])
            ns = [p.get("namespaceSelector", {}).get("matchLabels", {}).get("kubernetes.io/metadata.name") for p in peers]
            check(len(peers) == 1 and ns[0] and set(peers[0]) == {"namespaceSelector"} and len(peers[0]["namespaceSelector"]) == 1,
                  f"{where}: the metrics port is let in from one namespace, by name (got {peers})")
            scrapers.update(ns)
        for r in rules:
            if not metrics_only(r):
                names = [p.get("port") for p in r.get("ports", [])]
                check(names and "metrics" not in names and 9464 not in names, f"{where}: no other ingress rule lets in the metrics port (rule on {names or 'every port'})")
    check(len(scrapers) <= 1, f"{overlay}: every metrics port let in from the same namespace (got {sorted(map(str, scrapers))})")
    # The monitoring component: what Prometheus scrapes, what it alerts on, what Grafana shows.
    kustomization = yaml.safe_load(open(f"k8s/overlays/{overlay.removesuffix('.yaml')}/kustomization.yaml"))
    monitored = any(c.rstrip("/").endswith("components/monitoring") for c in kustomization.get("components", []))
    if overlay == "prod.yaml":
        check(monitored, f"{overlay}: the monitoring component is included")
    if monitored:
        podmonitors = [d for d in docs if d["kind"] == "PodMonitor" and d["apiVersion"] == "monitoring.coreos.com/v1"]
        check(podmonitors, f"{overlay}: a PodMonitor (monitoring.coreos.com/v1)")
        for name, w in crm_pods.items():
            labels = w["spec"]["template"]["metadata"]["labels"]
            scraped = [pm for pm in podmonitors if matches(pm["spec"].get("selector", {}), labels)
                       and any(ep.get("port") == "metrics" and ep.get("path", "/metrics") == "/metrics" for ep in pm["spec"].get("podMetricsEndpoints", []))]
            check(len(scraped) == 1, f"{overlay}: {w['kind']}/{name}: one PodMonitor scrapes port metrics, path /metrics of its pods")
        for pm in podmonitors:
            for name, w in workloads.items():
                if matches(pm["spec"].get("selector", {}), w["spec"]["template"]["metadata"]["labels"]):
                    ports = [p.get("name") for c in w["spec"]["template"]["spec"]["containers"] for p in c.get("ports", [])]
                    check("metrics" in ports, f"{overlay}: PodMonitor/{pm['metadata']['name']} selects only pods with a metrics port ({w['kind']}/{name} has none)")
        rules = [d for d in docs if d["kind"] == "PrometheusRule" and d["apiVersion"] == "monitoring.coreos.com/v1"]
        check(rules, f"{overlay}: a PrometheusRule (monitoring.coreos.com/v1)")
        alerts = []
        for pr in rules:
            for group in pr["spec"].get("groups", []):
                for r in group.get("rules", []):
                    alert = r.get("alert")
                    where = f"{overlay}: PrometheusRule/{pr['metadata']['name']} group {group.get('name')} rule {alert or r.get('record')}"
                    notes = r.get("annotations", {})
                    expr = str(r.get("expr", ""))
                    alerts.append(alert)
                    check(alert, f"{where}: an alert")
                    check(expr.strip() and balanced(expr), f"{where}: an expr with balanced brackets")
                    check(re.fullmatch(r"\d+[smh]", str(r.get("for", ""))), f"{where}: a for duration")
                    check(r.get("labels", {}).get("severity") in ("warning", "critical"), f"{where}: labels.severity warning or critical")
                    check(notes.get("summary") and notes.get("description"), f"{where}: summary and description annotations")
                    runbook = f"README.md#runbook-{(alert or '').lower()}"
                    check(notes.get("runbook_url") == runbook, f"{where}: runbook_url {runbook} (got {notes.get('runbook_url')})")
                    check(runbook.split("#")[1] in anchors, f"{where}: the README has the runbook section {runbook}")
                    names = metric_names(expr)
                    check(names, f"{where}: an expr reading CRM metrics")
                    used.update(names)
        check(len(alerts) == len(set(alerts)), f"{overlay}: alert names are unique")
        dashboards = [d for d in docs if d["kind"] == "ConfigMap" and d["metadata"].get("labels", {}).get("grafana_dashboard") == "1"]
        check(dashboards, f"{overlay}: a dashboard ConfigMap labelled grafana_dashboard: \"1\"")
        for cm in dashboards:
            for key, text in cm.get("data", {}).items():
                where = f"{overlay}: ConfigMap/{cm['metadata']['name']} {key}"
                # kubectl apply keeps the whole object in an annotation of at most 256 KiB.
                check(len(text.encode()) < 200_000, f"{where}: under 200 kB (kubectl apply's annotation holds 256 KiB)")
                try:
                    board = json.loads(text)
                except ValueError as e:
                    check(False, f"{where}: valid JSON ({e})")
                    continue
                check(board.get("uid") and board.get("title"), f"{where}: a uid and a title")
                variables = {v.get("name"): v for v in board.get("templating", {}).get("list", [])}
                ds = variables.get("datasource", {})
                check(ds.get("type") == "datasource" and ds.get("query") == "prometheus", f"{where}: a Prometheus datasource variable named datasource")
                svc = variables.get("service", {})
                svc_query = svc.get("query", {}).get("query") if isinstance(svc.get("query"), dict) else svc.get("query")
                check(svc_query == "label_values(rpc_server_call_duration_seconds_count, crm_service)", f"{where}: a service variable from label_values(rpc_server_call_duration_seconds_count, crm_service)")
                for v in variables.values():
                    q = v.get("query", {}).get("query") if isinstance(v.get("query"), dict) else v.get("query")
                    for m in re.finditer(r"label_values\(\s*([^,()]+?)\s*,", q or ""):
                        used.update(metric_names(m.group(1)))
                # Top-level panels, each under the row before it (or inside a collapsed row).
                sections, current = [], None
                for p in board.get("panels", []):
                    if p.get("type") == "row":
                        current = (p.get("title", ""), list(p.get("panels", [])))
                        sections.append(current)
                    elif current:
                        current[1].append(p)
                    else:
                        sections.append(current := ("", [p]))
                titles = [t.lower() for t, _ in sections]
                for want in ("identity", "customers", "sales", "warehouse", "gateway", "events"):
                    check(want in titles, f"{where}: a row titled {want} (rows: {titles})")
                for title, panels in sections:
                    for p in panels:
                        pw = f"{where} panel {p.get('title')!r}"
                        targets = p.get("targets", [])
                        check(targets, f"{pw}: at least one target")
                        check(p.get("datasource", {}).get("uid") == "${datasource}", f"{pw}: datasource ${{datasource}}")
                        for t in targets:
                            expr = (t.get("expr") or "").strip()
                            check(expr and balanced(expr), f"{pw} target {t.get('refId')}: a non-empty expr with balanced brackets")
                            names = metric_names(expr)
                            check(names, f"{pw} target {t.get('refId')}: an expr reading CRM metrics")
                            used.update(names)
                            if title.lower() in ("identity", "customers", "sales", "warehouse", "gateway"):
                                check(f'"{title.lower()}"' in expr, f"{pw} target {t.get('refId')}: reads {title.lower()}'s series")
    # Where an overlay has CloudNativePG Clusters, each service reads its database URL from its
    # own Cluster's application Secret, and each Cluster has a replica to fail over to.
    clusters = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Cluster" and d["apiVersion"].startswith("postgresql.cnpg.io/")}
    if clusters:
        for name, w in deployments.items():
            if w["spec"]["template"]["metadata"]["labels"].get("app.kubernetes.io/component") != "service":
                continue
            env = {e["name"]: e for c in w["spec"]["template"]["spec"]["containers"] for e in c.get("env", [])}
            ref = env.get("CRM_DATABASE_URL", {}).get("valueFrom", {}).get("secretKeyRef", {})
            # Its own Cluster: <service>-db, or the one a restore made (README, Backups and restore).
            cname = ref.get("name", "").removesuffix("-app")
            cluster = clusters.get(cname)
            where = f"{overlay}: Deployment/{name}"
            check(cluster is not None and cname.startswith(f"{name}-db"), f"{where}: CRM_DATABASE_URL from the Secret <cluster>-app of a CloudNativePG Cluster {name}-db... (got {ref})")
            check(ref.get("key") == "uri" and ref.get("name", "").endswith("-app"), f"{where}: CRM_DATABASE_URL from key uri of the Cluster's application Secret (got {ref})")
            if cluster:
                boot = cluster["spec"].get("bootstrap", {})
                check(cluster["spec"].get("instances", 1) >= 2, f"{overlay}: Cluster/{cname} has a replica (instances >= 2)")
                check((boot.get("initdb") or boot.get("recovery") or {}).get("database") == name, f"{overlay}: Cluster/{cname} creates (or recovers) the database {name}")
    # Every Cluster archives its WAL and takes base backups to an object store, keeps them for a
    # retention period, and has a ScheduledBackup; each writes to its own place in the store,
    # with keys from a Secret this overlay does not carry.
    scheduled = [d for d in docs if d["kind"] == "ScheduledBackup" and d["apiVersion"].startswith("postgresql.cnpg.io/")]
    archives = []
    for cname, cluster in clusters.items():
        where = f"{overlay}: Cluster/{cname}"
        backup = cluster["spec"].get("backup", {})
        store = backup.get("barmanObjectStore", {})
        creds = store.get("s3Credentials", {})
        check(store.get("destinationPath"), f"{where}: backup.barmanObjectStore with a destinationPath")
        check(creds.get("accessKeyId") == {"name": "crm-backup-s3", "key": "ACCESS_KEY_ID"}
              and creds.get("secretAccessKey") == {"name": "crm-backup-s3", "key": "ACCESS_SECRET_KEY"},
              f"{where}: the object store's keys from Secret crm-backup-s3 (ACCESS_KEY_ID, ACCESS_SECRET_KEY)")
        check(store.get("wal", {}).get("compression") and store.get("data", {}).get("compression"), f"{where}: WAL and base backups compressed")
        check(re.fullmatch(r"[1-9][0-9]*[dwm]", str(backup.get("retentionPolicy", ""))), f"{where}: a retentionPolicy such as 30d")
        archives.append((store.get("destinationPath"), store.get("serverName", cname)))
        mine = [b for b in scheduled if b["spec"].get("cluster", {}).get("name") == cname]
        check(mine, f"{where}: a ScheduledBackup")
        for b in mine:
            bw = f"{overlay}: ScheduledBackup/{b['metadata']['name']}"
            check(len(str(b["spec"].get("schedule", "")).split()) == 6, f"{bw}: a six-field schedule (seconds first)")
            check(b["spec"].get("backupOwnerReference") == "self", f"{bw}: backupOwnerReference self")
            check(b["spec"].get("method", "barmanObjectStore") == "barmanObjectStore", f"{bw}: method barmanObjectStore")
    check(len(archives) == len(set(archives)), f"{overlay}: every Cluster archives to its own place (got {archives})")
    for b in scheduled:
        check(b["spec"].get("cluster", {}).get("name") in clusters, f"{overlay}: ScheduledBackup/{b['metadata']['name']} backs up a Cluster of this overlay")
    check(not any(d["kind"] == "Secret" and d["metadata"]["name"] == "crm-backup-s3" for d in docs), f"{overlay}: the backup keys (Secret crm-backup-s3) are not in the manifests")
# metrics.txt lists exactly the metric names the alerts and dashboards read.
if used:
    check(len(listed) == len(set(listed)), f"{METRICS_TXT}: each name once")
    for name in sorted(used - set(listed)):
        check(False, f"{METRICS_TXT}: does not list {name}, which an alert or a dashboard reads")
    for name in sorted(set(listed) - used):
        check(False, f"{METRICS_TXT}: lists {name}, which no alert or dashboard reads")
for f in failures:
    print("FAIL", f)
print(f"k8s properties: {checks - len(failures)} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
PY
