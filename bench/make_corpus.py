"""Generate a deterministic, realistic corpus of Kubernetes manifests for benchmarks.

Why generated rather than vendored: a corpus of a few hundred files is too big
to review in a diff, and a seeded generator gives the same bytes on every
machine, so timings and finding counts are comparable across runs and peers.

The corpus mixes what real repositories hold: Helm-rendered multi-document
files (with ``# Source:`` comments), single workloads, ``kind: List`` files,
RBAC bundles (wildcards, cluster-admin bindings), network policies and
namespaces. Workload pod specs are drawn from three profiles -- hardened,
typical, risky -- so every scanner has true positives and true negatives.

Alongside the manifests the generator can write a *truth* file (``--truth``):
for each resource, which benchmark categories were planted in it. The truth
file is written outside the corpus directory so that no scanner reads it.

Usage::

    python bench/make_corpus.py OUT_DIR [--files 400] [--seed 7] [--truth OUT.json]
    python bench/make_corpus.py OUT_DIR --rbac-heavy [--rbac-objects 320]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

Doc = dict[str, Any]

#: Categories the benchmark compares tools on; the truth file uses these names.
CATEGORIES = (
    "privileged",
    "hostPath",
    "hostNetwork",
    "hostPID",
    "runAsNonRoot",
    "latestTag",
    "missingLimits",
    "rbacWildcard",
    "clusterAdminBinding",
)

NAMESPACES = ("prod", "staging", "payments", "monitoring", "logging", "ingress", "data", "ml", "batch", "web")
APPS = (
    "api", "web", "worker", "frontend", "checkout", "cart", "auth", "billing", "search", "catalog",
    "notifier", "gateway", "scheduler", "reporter", "indexer", "exporter", "collector", "proxy", "cache", "queue",
)
IMAGES = (
    "nginx", "redis", "postgres", "busybox", "python", "node", "golang", "alpine",
    "ghcr.io/acme/api", "ghcr.io/acme/web", "quay.io/prometheus/node-exporter",
    "registry.k8s.io/ingress-nginx/controller",
    "docker.io/bitnami/kafka", "gcr.io/distroless/static", "public.ecr.aws/acme/worker",
)
RBAC_RESOURCES = (
    "pods", "pods/log", "pods/exec", "deployments", "services", "configmaps", "secrets", "jobs",
    "cronjobs", "ingresses", "networkpolicies", "nodes", "namespaces", "events", "persistentvolumeclaims",
)
RBAC_GROUP_OF = {
    "deployments": "apps", "jobs": "batch", "cronjobs": "batch",
    "ingresses": "networking.k8s.io", "networkpolicies": "networking.k8s.io",
}
READ_VERBS = ["get", "list", "watch"]
WRITE_VERBS = ["create", "update", "patch", "delete"]


class Corpus:
    """Accumulates documents and the truth about them while files are written."""

    def __init__(self, out: Path, rng: random.Random) -> None:
        self.out = out
        self.rng = rng
        self.truth: list[dict[str, Any]] = []
        self.kinds: Counter[str] = Counter()
        self.files = 0
        self._serial: Counter[str] = Counter()

    def unique(self, base: str) -> str:
        """Return ``base`` or ``base-N`` so that no two objects of the corpus share a name."""
        self._serial[base] += 1
        n = self._serial[base]
        return base if n == 1 else f"{base}-{n}"

    def write(self, rel: str, docs: list[Doc], chart: str | None, as_list: bool = False) -> None:
        path = self.out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        members = docs
        if as_list:
            docs = [{"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": docs}]
        parts: list[str] = []
        for doc in docs:
            head = ""
            if chart is not None:
                kind = str(doc.get("kind", "")).lower()
                head = f"# Source: {chart}/templates/{kind}.yaml\n"
            parts.append("---\n" + head + yaml.safe_dump(doc, sort_keys=False, default_flow_style=False))
        path.write_text("".join(parts), encoding="utf-8")
        self.files += 1
        for doc in members:
            self.kinds[doc["kind"]] += 1
            meta = doc.get("metadata", {})
            self.truth.append({
                "file": rel,
                "kind": doc["kind"],
                "namespace": meta.get("namespace"),
                "name": meta.get("name"),
                "categories": sorted(planted(doc)),
            })


# --- truth -------------------------------------------------------------------------------------------------


def pod_spec_of(doc: Doc) -> Doc | None:
    kind = doc.get("kind")
    spec: Doc = doc.get("spec", {})
    found: Doc | None = None
    if kind == "Pod":
        found = spec
    elif kind == "CronJob":
        found = spec.get("jobTemplate", {}).get("spec", {}).get("template", {}).get("spec")
    elif kind in ("Deployment", "StatefulSet", "DaemonSet", "Job", "ReplicaSet"):
        found = spec.get("template", {}).get("spec")
    return found


def planted(doc: Doc) -> set[str]:
    """The benchmark categories that ``doc`` violates, computed from what was generated."""
    cats: set[str] = set()
    spec = pod_spec_of(doc)
    if spec is not None:
        containers = list(spec.get("initContainers", [])) + list(spec.get("containers", []))
        pod_sc = spec.get("securityContext", {})
        if spec.get("hostNetwork"):
            cats.add("hostNetwork")
        if spec.get("hostPID"):
            cats.add("hostPID")
        if any("hostPath" in v for v in spec.get("volumes", [])):
            cats.add("hostPath")
        for c in containers:
            sc = c.get("securityContext", {})
            if sc.get("privileged"):
                cats.add("privileged")
            if sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot")) is not True:
                cats.add("runAsNonRoot")
            image = c["image"]
            last = image.rsplit("/", 1)[-1]
            if "@" not in last and (":" not in last or last.endswith(":latest")):
                cats.add("latestTag")
            limits = c.get("resources", {}).get("limits", {})
            if "cpu" not in limits or "memory" not in limits:
                cats.add("missingLimits")
    if doc.get("kind") in ("Role", "ClusterRole"):
        for rule in doc.get("rules", []):
            if any("*" in rule.get(k, []) for k in ("apiGroups", "resources", "verbs")):
                cats.add("rbacWildcard")
    if doc.get("kind") in ("RoleBinding", "ClusterRoleBinding") and doc["roleRef"]["name"] == "cluster-admin":
        cats.add("clusterAdminBinding")
    return cats


# --- workloads ---------------------------------------------------------------------------------------------


def image_ref(rng: random.Random, risky: bool) -> str:
    name = rng.choice(IMAGES)
    roll = rng.random()
    if risky and roll < 0.35:
        return name + rng.choice([":latest", ""])
    if roll < 0.12:
        return name + "@sha256:" + "".join(rng.choice("0123456789abcdef") for _ in range(64))
    if roll < 0.16:
        return name + ":latest"
    return f"{name}:{rng.randint(1, 16)}.{rng.randint(0, 30)}.{rng.randint(0, 9)}"


def container(rng: random.Random, name: str, profile: str) -> Doc:
    risky = profile == "risky"
    c: Doc = {"name": name, "image": image_ref(rng, risky)}
    if rng.random() < 0.6:
        c["ports"] = [{"containerPort": rng.choice([80, 443, 8080, 8443, 9090, 5432, 6379]), "name": "http"}]
    env: list[Doc] = [{"name": "LOG_LEVEL", "value": rng.choice(["info", "debug", "warn"])}]
    if rng.random() < 0.4:
        ref = {"secretKeyRef": {"name": "db-credentials", "key": "password"}}
        env.append({"name": "DB_PASSWORD", "valueFrom": ref})
    if risky and rng.random() < 0.3:
        token = "sk_live_" + "".join(rng.choice("abcdef0123456789") for _ in range(24))
        env.append({"name": "API_TOKEN", "value": token})
    c["env"] = env
    if profile == "hardened" or rng.random() < 0.5:
        res: Doc = {"requests": {"cpu": f"{rng.choice([50, 100, 250])}m", "memory": f"{rng.choice([64, 128, 256])}Mi"}}
        if profile == "hardened" or rng.random() < 0.5:
            limits: Doc = {"cpu": f"{rng.choice([250, 500, 1000])}m", "memory": f"{rng.choice([256, 512, 1024])}Mi"}
            if profile != "hardened" and rng.random() < 0.3:
                limits.pop(rng.choice(["cpu", "memory"]))
            res["limits"] = limits
        c["resources"] = res
    if profile == "hardened":
        c["securityContext"] = {
            "runAsNonRoot": True,
            "runAsUser": rng.choice([1000, 10001, 65532]),
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        }
        c["livenessProbe"] = {"httpGet": {"path": "/healthz", "port": 8080}}
        c["readinessProbe"] = {"httpGet": {"path": "/ready", "port": 8080}}
    elif profile == "typical":
        sc: Doc = {}
        if rng.random() < 0.5:
            sc["runAsNonRoot"] = rng.random() < 0.8
        if rng.random() < 0.5:
            sc["allowPrivilegeEscalation"] = False
        if sc:
            c["securityContext"] = sc
    else:
        sc = {}
        if rng.random() < 0.45:
            sc["privileged"] = True
        if rng.random() < 0.3:
            sc["capabilities"] = {"add": [rng.choice(["SYS_ADMIN", "NET_ADMIN", "NET_RAW", "SYS_PTRACE"])]}
        if rng.random() < 0.3:
            sc["runAsUser"] = 0
        if rng.random() < 0.2:
            sc["allowPrivilegeEscalation"] = True
        if sc:
            c["securityContext"] = sc
    return c


def pod_spec(rng: random.Random, app: str, profile: str) -> Doc:
    n = rng.choices([1, 2, 3], weights=[6, 3, 1])[0]
    spec: Doc = {"serviceAccountName": app}
    if profile == "hardened":
        spec["automountServiceAccountToken"] = False
        spec["securityContext"] = {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}, "fsGroup": 2000}
    elif profile == "typical" and rng.random() < 0.3:
        spec["securityContext"] = {"runAsNonRoot": True}
    if profile == "risky":
        if rng.random() < 0.3:
            spec["hostNetwork"] = True
        if rng.random() < 0.15:
            spec["hostPID"] = True
    spec["containers"] = [container(rng, app if i == 0 else f"{app}-sidecar{i}", profile) for i in range(n)]
    if rng.random() < 0.15:
        spec["initContainers"] = [container(rng, "init-migrate", profile)]
    volumes: list[Doc] = [{"name": "config", "configMap": {"name": f"{app}-config"}}]
    if profile == "risky" and rng.random() < 0.35:
        host_dir = rng.choice(["/var/run/docker.sock", "/", "/var/log", "/etc"])
        volumes.append({"name": "host", "hostPath": {"path": host_dir}})
    spec["volumes"] = volumes
    return spec


def workload(corpus: Corpus, kind: str, app: str, ns: str | None) -> Doc:
    rng = corpus.rng
    profile = rng.choices(["hardened", "typical", "risky"], weights=[35, 40, 25])[0]
    name = corpus.unique(app)
    labels = {"app.kubernetes.io/name": app, "app.kubernetes.io/instance": name, "helm.sh/chart": f"{app}-1.2.3"}
    meta: Doc = {"name": name}
    if ns is not None:
        meta["namespace"] = ns
    meta["labels"] = labels
    spec = pod_spec(rng, app, profile)
    template = {"metadata": {"labels": {"app.kubernetes.io/name": app}}, "spec": spec}
    if kind == "Pod":
        return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec}
    if kind == "Job":
        spec["restartPolicy"] = "Never"
        return {"apiVersion": "batch/v1", "kind": "Job", "metadata": meta, "spec": {"template": template}}
    if kind == "CronJob":
        spec["restartPolicy"] = "OnFailure"
        return {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": meta,
                "spec": {"schedule": f"{rng.randint(0, 59)} */{rng.randint(1, 6)} * * *",
                         "jobTemplate": {"spec": {"template": template}}}}
    body: Doc = {"selector": {"matchLabels": {"app.kubernetes.io/name": app}}, "template": template}
    if kind in ("Deployment", "StatefulSet"):
        body = {"replicas": rng.choice([1, 2, 3, 5]), **body}
    if kind == "StatefulSet":
        body["serviceName"] = name
    return {"apiVersion": "apps/v1", "kind": kind, "metadata": meta, "spec": body}


def meta(name: str, ns: str | None) -> Doc:
    return {"name": name, "namespace": ns} if ns is not None else {"name": name}


def service(corpus: Corpus, app: str, ns: str) -> Doc:
    rng = corpus.rng
    stype = rng.choices(["ClusterIP", "NodePort", "LoadBalancer"], weights=[7, 2, 1])[0]
    port: Doc = {"name": "http", "port": 80, "targetPort": 8080}
    if stype == "NodePort":
        port["nodePort"] = rng.randint(30000, 32767)
    return {"apiVersion": "v1", "kind": "Service", "metadata": meta(corpus.unique(app), ns),
            "spec": {"type": stype, "selector": {"app.kubernetes.io/name": app}, "ports": [port]}}


def ingress(corpus: Corpus, app: str, ns: str, svc: str) -> Doc:
    host = f"{app}.{ns}.example.com"
    spec: Doc = {"ingressClassName": "nginx", "rules": [{"host": host, "http": {"paths": [{
        "path": "/", "pathType": "Prefix", "backend": {"service": {"name": svc, "port": {"number": 80}}}}]}}]}
    if corpus.rng.random() < 0.6:
        spec["tls"] = [{"hosts": [host], "secretName": f"{app}-tls"}]
    return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": meta(corpus.unique(app), ns),
            "spec": spec}


def configmap(corpus: Corpus, app: str, ns: str | None) -> Doc:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta(corpus.unique(f"{app}-config"), ns),
            "data": {"LOG_FORMAT": "json", "FEATURE_FLAGS": "a,b,c", "app.yaml": "server:\n  port: 8080\n"}}


def secret(corpus: Corpus, app: str, ns: str) -> Doc:
    pw = "".join(corpus.rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789") for _ in range(20))
    return {"apiVersion": "v1", "kind": "Secret", "metadata": meta(corpus.unique(f"{app}-db"), ns),
            "type": "Opaque", "stringData": {"username": app, "password": pw}}


def service_account(corpus: Corpus, app: str, ns: str) -> Doc:
    doc: Doc = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta(corpus.unique(app), ns)}
    if corpus.rng.random() < 0.4:
        doc["automountServiceAccountToken"] = False
    return doc


def network_policy(corpus: Corpus, app: str, ns: str) -> Doc:
    spec: Doc = {"podSelector": {"matchLabels": {"app.kubernetes.io/name": app}}, "policyTypes": ["Ingress"],
                 "ingress": [{"from": [{"namespaceSelector": {
                     "matchLabels": {"kubernetes.io/metadata.name": "ingress"}}}]}]}
    if corpus.rng.random() < 0.2:
        spec = {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": meta(corpus.unique(f"{app}-netpol"), ns), "spec": spec}


def namespace(corpus: Corpus, name: str) -> Doc:
    labels = {"kubernetes.io/metadata.name": name}
    if corpus.rng.random() < 0.5:
        labels["pod-security.kubernetes.io/enforce"] = corpus.rng.choice(["restricted", "baseline", "privileged"])
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": corpus.unique(name), "labels": labels}}


# --- RBAC --------------------------------------------------------------------------------------------------


def policy_rules(rng: random.Random) -> list[Doc]:
    rules: list[Doc] = []
    for _ in range(rng.randint(1, 4)):
        res = rng.sample(RBAC_RESOURCES, rng.randint(1, 3))
        groups = sorted({RBAC_GROUP_OF.get(r, "") for r in res})
        verbs = READ_VERBS + (WRITE_VERBS if rng.random() < 0.4 else [])
        rules.append({"apiGroups": groups, "resources": res, "verbs": list(verbs)})
    roll = rng.random()
    if roll < 0.15:
        rules.append({"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]})
    elif roll < 0.25:
        rules.append({"apiGroups": [""], "resources": ["secrets"], "verbs": ["*"]})
    elif roll < 0.32:
        rules.append({"apiGroups": ["apps"], "resources": ["*"], "verbs": READ_VERBS})
    return rules


def subject(rng: random.Random, app: str, ns: str) -> Doc:
    roll = rng.random()
    if roll < 0.75:
        return {"kind": "ServiceAccount", "name": app, "namespace": ns}
    if roll < 0.9:
        return {"kind": "Group", "name": rng.choice(["developers", "sre", "system:authenticated"]),
                "apiGroup": "rbac.authorization.k8s.io"}
    return {"kind": "User", "name": f"{app}@example.com", "apiGroup": "rbac.authorization.k8s.io"}


def rbac_bundle(corpus: Corpus, app: str, ns: str) -> list[Doc]:
    """A role and its binding, namespaced or cluster-wide; sometimes a cluster-admin binding instead."""
    rng = corpus.rng
    cluster = rng.random() < 0.4
    api = "rbac.authorization.k8s.io/v1"
    role_kind, binding_kind = ("ClusterRole", "ClusterRoleBinding") if cluster else ("Role", "RoleBinding")
    role_name = corpus.unique(f"{app}-{'reader' if rng.random() < 0.5 else 'operator'}")
    role: Doc = {"apiVersion": api, "kind": role_kind, "metadata": meta(role_name, None if cluster else ns),
                 "rules": policy_rules(rng)}
    ref_kind, ref_name = role_kind, role_name
    docs = [role]
    if rng.random() < 0.12:
        ref_kind, ref_name = "ClusterRole", "cluster-admin"
    binding: Doc = {"apiVersion": api, "kind": binding_kind,
                    "metadata": meta(corpus.unique(f"{app}-{ref_name}"), None if cluster else ns),
                    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": ref_kind, "name": ref_name},
                    "subjects": [subject(rng, app, ns) for _ in range(rng.randint(1, 2))]}
    docs.append(binding)
    return docs


# --- files -------------------------------------------------------------------------------------------------


def app_bundle(corpus: Corpus, i: int) -> None:
    rng = corpus.rng
    app, ns = rng.choice(APPS), rng.choice(NAMESPACES)
    chart = f"{app}-chart"
    kind = rng.choices(["Deployment", "StatefulSet", "DaemonSet"], weights=[7, 2, 1])[0]
    docs = [service_account(corpus, app, ns), configmap(corpus, app, ns)]
    if rng.random() < 0.3:
        docs.append(secret(corpus, app, ns))
    docs.append(workload(corpus, kind, app, ns))
    svc = service(corpus, app, ns)
    docs.append(svc)
    if rng.random() < 0.4:
        docs.append(ingress(corpus, app, ns, svc["metadata"]["name"]))
    if rng.random() < 0.4:
        docs.append(network_policy(corpus, app, ns))
    if rng.random() < 0.2:
        docs.extend(rbac_bundle(corpus, app, ns))
    corpus.write(f"charts/{chart}/{i:04d}-{app}.yaml", docs, chart)


def single_workload(corpus: Corpus, i: int) -> None:
    rng = corpus.rng
    app = rng.choice(APPS)
    kind = rng.choice(["Deployment", "DaemonSet", "CronJob", "Job", "Pod", "StatefulSet"])
    ns = rng.choice(NAMESPACES) if rng.random() < 0.85 else None
    ext = ".yml" if rng.random() < 0.2 else ".yaml"
    corpus.write(f"workloads/{i:04d}-{kind.lower()}-{app}{ext}", [workload(corpus, kind, app, ns)], None)


def rbac_file(corpus: Corpus, i: int) -> None:
    rng = corpus.rng
    app, ns = rng.choice(APPS), rng.choice(NAMESPACES)
    docs: list[Doc] = []
    for _ in range(rng.randint(1, 3)):
        docs.extend(rbac_bundle(corpus, app, ns))
    corpus.write(f"rbac/{i:04d}-{app}-rbac.yaml", docs, f"{app}-chart" if rng.random() < 0.5 else None)


def list_file(corpus: Corpus, i: int) -> None:
    rng = corpus.rng
    app, ns = rng.choice(APPS), rng.choice(NAMESPACES)
    items = [configmap(corpus, app, ns), service(corpus, app, ns)]
    if rng.random() < 0.7:
        items.insert(0, workload(corpus, rng.choice(["Deployment", "CronJob"]), app, ns))
    if rng.random() < 0.5:
        items.extend(rbac_bundle(corpus, app, ns))
    corpus.write(f"lists/{i:04d}-{app}-list.yaml", items, None, as_list=True)


def cluster_file(corpus: Corpus, i: int) -> None:
    rng = corpus.rng
    docs: list[Doc] = []
    for ns in rng.sample(NAMESPACES, rng.randint(1, 3)):
        docs.append(namespace(corpus, ns))
        docs.append(network_policy(corpus, "default-deny", ns))
    corpus.write(f"cluster/{i:04d}-namespaces.yaml", docs, None)


def generate(out: Path, files: int, seed: int) -> Corpus:
    corpus = Corpus(out, random.Random(seed))
    makers = [app_bundle] * 42 + [single_workload] * 22 + [rbac_file] * 22 + [list_file] * 8 + [cluster_file] * 6
    plan = [makers[i * len(makers) // files] for i in range(files)] if files >= len(makers) else makers[:files]
    corpus.rng.shuffle(plan)
    for i, make in enumerate(plan):
        make(corpus, i)
    return corpus


def rbac_release(corpus: Corpus, i: int) -> int:
    """One chart installed into several namespaces: the same Role/RoleBinding names in each.

    Real clusters look like this, and it is what makes name-based RoleBinding -> Role
    resolution hard (a binding must resolve to the Role of its own namespace).
    Returns the number of files written.
    """
    rng = corpus.rng
    app = rng.choice(APPS)
    name = f"{app}-release-operator"
    rules = policy_rules(rng)
    api = "rbac.authorization.k8s.io/v1"
    spaces = rng.sample(NAMESPACES, rng.randint(2, 4))
    for n, ns in enumerate(spaces):
        role: Doc = {"apiVersion": api, "kind": "Role", "metadata": meta(name, ns), "rules": rules}
        binding: Doc = {"apiVersion": api, "kind": "RoleBinding", "metadata": meta(name, ns),
                        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
                        "subjects": [{"kind": "ServiceAccount", "name": app, "namespace": ns}]}
        corpus.write(f"releases/{i:04d}-{n}-{app}-{ns}.yaml", [role, binding], f"{app}-chart")
    return len(spaces)


def generate_rbac_heavy(out: Path, objects: int, seed: int) -> Corpus:
    """RBAC only -- roles, bindings, repeated chart releases -- until ``objects`` objects exist."""
    corpus = Corpus(out, random.Random(seed))
    i = 0
    while sum(corpus.kinds.values()) < objects:
        if i % 2:
            rbac_release(corpus, i)
        else:
            rbac_file(corpus, i)
        i += 1
    return corpus


RBAC_KINDS = frozenset({"Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"})


def summary(corpus: Corpus) -> Iterator[str]:
    total = sum(corpus.kinds.values())
    rbac = sum(n for k, n in corpus.kinds.items() if k in RBAC_KINDS)
    yield f"{corpus.files} files, {total} resources ({rbac} RBAC objects) in {corpus.out}"
    yield "  " + ", ".join(f"{k}={n}" for k, n in sorted(corpus.kinds.items()))
    cats: Counter[str] = Counter(c for t in corpus.truth for c in t["categories"])
    yield "  planted: " + ", ".join(f"{c}={cats[c]}" for c in CATEGORIES)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", type=Path, help="directory to write (must not exist or be empty)")
    ap.add_argument("--files", type=int, default=400, help="number of files (default 400)")
    ap.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    ap.add_argument("--rbac-heavy", action="store_true", help="RBAC objects only")
    ap.add_argument("--rbac-objects", type=int, default=320, help="RBAC objects for --rbac-heavy (default 320)")
    ap.add_argument("--truth", type=Path, help="write the planted categories per resource to this JSON file")
    args = ap.parse_args(argv)
    if args.out.exists() and any(args.out.iterdir()):
        print(f"error: {args.out} is not empty; refusing to mix corpora", file=sys.stderr)
        return 2
    if args.rbac_heavy:
        corpus = generate_rbac_heavy(args.out, args.rbac_objects, args.seed)
    else:
        corpus = generate(args.out, args.files, args.seed)
    if args.truth is not None:
        args.truth.write_text(json.dumps({"resources": corpus.truth}, indent=1), encoding="utf-8")
    for line in summary(corpus):
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
