"""Map cloudward, Checkov and Trivy findings onto shared (resource, category) pairs.

Why: the three tools name their checks differently (``pod.privileged``,
``CKV_K8S_16``, ``KSV017``) and point at resources differently (a resource
ref, ``Kind.namespace.name``, a file line or a sentence). Comparing *what*
they find needs one vocabulary: a handful of categories every tool claims to
cover, and a resource key ``(file, kind, name)``.

The id tables below were checked against the tools' own titles (``checkov -l
--framework kubernetes`` for Checkov 3.3.30; the ``Title`` field of Trivy's JSON
and the upstream trivy-checks metadata for the KSV ids). A category missing
from a tool's table means the tool has no check for it ("n/a" in the report),
which is different from "checked and found nothing".
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

Key = tuple[str, str, str]  # (file relative to the corpus, kind, name)


#: Checkov 3.3.30 (kubernetes framework). It has no check for hostPath in general (CKV_K8S_27 covers
#: only the Docker socket), none for RBAC wildcards in this framework and none for cluster-admin bindings.
CHECKOV: dict[str, str] = {
    "CKV_K8S_16": "privileged",  # Container should not be privileged
    "CKV_K8S_27": "hostPath",  # Do not expose the docker daemon socket to containers (hostPath subset)
    "CKV_K8S_19": "hostNetwork",  # Containers should not share the host network namespace
    "CKV_K8S_17": "hostPID",  # Containers should not share the host process ID namespace
    "CKV_K8S_23": "runAsNonRoot",  # Minimize the admission of root containers
    "CKV_K8S_14": "latestTag",  # Image Tag should be fixed - not latest or blank
    "CKV_K8S_11": "missingLimits",  # CPU limits should be set
    "CKV_K8S_13": "missingLimits",  # Memory limits should be set
    "CKV_K8S_49": "rbacWildcard",  # Minimize wildcard use in Roles and ClusterRoles (absent in 3.3.30's k8s list)
}
CHECKOV_PARTIAL = {"hostPath"}

#: Trivy's embedded checks (trivy-checks KSV ids).
TRIVY: dict[str, str] = {
    "KSV017": "privileged",  # Privileged
    "KSV023": "hostPath",  # hostPath volumes mounted
    "KSV006": "hostPath",  # hostPath volume mounted with docker.sock
    "KSV009": "hostNetwork",  # Access to host network
    "KSV010": "hostPID",  # Access to host PID
    "KSV012": "runAsNonRoot",  # Runs as root user (runAsNonRoot not true)
    "KSV013": "latestTag",  # Image tag ":latest" used
    "KSV011": "missingLimits",  # CPU not limited
    "KSV018": "missingLimits",  # Memory not limited
    "KSV044": "rbacWildcard",  # No wildcard verb and resource roles
    "KSV045": "rbacWildcard",  # No wildcard verb roles
    "KSV046": "rbacWildcard",  # Manage all resources (ClusterRole, resources "*")
    "KSV112": "rbacWildcard",  # Manage all resources at the namespace (Role, resources "*")
    "KSV111": "clusterAdminBinding",  # User with admin access (binding to cluster-admin/admin/edit)
}


def cloudward_category(rule_id: str, finding: dict[str, Any]) -> str | None:
    """cloudward's rule ids are slugs; several rules can land in one category."""
    rid = rule_id.lower()
    where = json.dumps([finding.get("path"), finding.get("json_path"), finding.get("message")])
    if rid == "pod.privileged":
        return "privileged"
    if rid in ("pod.host-path", "pod.sensitive-host-path", "pod.runtime-socket-mount"):
        return "hostPath"
    if rid == "pod.host-namespaces":
        if "hostNetwork" in where:
            return "hostNetwork"
        if "hostPID" in where:
            return "hostPID"
        return None
    if rid in ("pod.run-as-non-root",):
        return "runAsNonRoot"
    if rid in ("pod.image-tag-latest",):
        return "latestTag"
    if rid in ("pod.resources-limits",):
        return "missingLimits"
    if rid.startswith("rbac.") and "wildcard" in rid:
        return "rbacWildcard"
    if rid.startswith("rbac.") and "cluster-admin" in rid:
        return "clusterAdminBinding"
    return None


def covers(tool: str, category: str) -> bool:
    if tool == "checkov":
        return category in {c for k, c in CHECKOV.items() if k != "CKV_K8S_49"}
    if tool == "trivy":
        return category in TRIVY.values()
    return True


def show(key: Key) -> str:
    return f"{key[1]}/{key[2]} ({key[0]})"


def truth_keys(truth: Iterable[dict[str, Any]]) -> dict[str, set[Key]]:
    out: dict[str, set[Key]] = {}
    for res in truth:
        for cat in res["categories"]:
            out.setdefault(cat, set()).add((res["file"], res["kind"], res["name"]))
    return out


def norm_file(path: str) -> str:
    return os.path.normpath(path.lstrip("/")).removeprefix("./")


@dataclasses.dataclass
class Span:
    key: Key
    namespace: str | None
    first: int  # 1-based, inclusive
    last: int  # 1-based, inclusive


@dataclasses.dataclass
class ResourceIndex:
    """Every resource of the corpus with its line span, to place line-only findings (Trivy)."""

    files: int
    resources: list[Span]
    by_file: dict[str, list[Span]]

    @classmethod
    def build(cls, root: Path) -> ResourceIndex:
        spans: list[Span] = []
        by_file: dict[str, list[Span]] = {}
        files = 0
        for path in sorted(root.rglob("*")):
            if path.suffix not in (".yaml", ".yml") or not path.is_file():
                continue
            files += 1
            rel = norm_file(str(path.relative_to(root)))
            try:
                nodes = list(yaml.compose_all(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader))
            except yaml.YAMLError:
                continue
            for node in nodes:
                for span in _spans(rel, node):
                    spans.append(span)
                    by_file.setdefault(rel, []).append(span)
        return cls(files, spans, by_file)

    def at_line(self, file: str, line: int) -> Span | None:
        hits = [s for s in self.by_file.get(file, []) if s.first <= line <= s.last]
        return min(hits, key=lambda s: s.last - s.first) if hits else None

    def named(self, file: str, kind: str, name: str) -> Span | None:
        for s in self.by_file.get(file, []):
            if s.key[1].lower() == kind.lower() and s.key[2] == name:
                return s
        return None


def _scalar(node: yaml.Node, *path: str) -> str | None:
    for step in path:
        if not isinstance(node, yaml.MappingNode):
            return None
        found = [v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == step]
        if not found:
            return None
        node = found[0]
    return node.value if isinstance(node, yaml.ScalarNode) else None


def _spans(rel: str, node: yaml.Node | None) -> Iterable[Span]:
    if not isinstance(node, yaml.MappingNode):
        return
    kind, name = _scalar(node, "kind"), _scalar(node, "metadata", "name")
    if kind and kind.endswith("List"):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == "items" and isinstance(v, yaml.SequenceNode):
                for item in v.value:
                    yield from _spans(rel, item)
        return
    if kind and name:
        last = node.end_mark.line if node.end_mark.column == 0 else node.end_mark.line + 1
        yield Span((rel, kind, name), _scalar(node, "metadata", "namespace"), node.start_mark.line + 1, last)


# --- per-tool loaders --------------------------------------------------------------------------------------

Flagged = dict[str, set[Key]]


def load(tool: str, output: Path, index: ResourceIndex) -> tuple[Flagged, int]:
    """Return resources flagged per category and how many relevant findings could not be placed."""
    data = json.loads(output.read_text(encoding="utf-8"))
    return {"cloudward": _cloudward, "checkov": _checkov, "trivy": _trivy}[tool](data, index)


def _add(out: Flagged, cat: str, key: Key) -> None:
    out.setdefault(cat, set()).add(key)


def _cloudward(data: Any, index: ResourceIndex) -> tuple[Flagged, int]:
    out: Flagged = {}
    lost = 0
    for f in data.get("findings", []):
        cat = cloudward_category(str(f.get("rule_id", "")), f)
        if cat is None:
            continue
        res = f.get("resource") or {}
        file = norm_file(str(f.get("file") or (f.get("location") or {}).get("file") or ""))
        if res.get("kind") and res.get("name"):
            _add(out, cat, (file, str(res["kind"]), str(res["name"])))
        else:
            lost += 1
    return out, lost


def _checkov(data: Any, index: ResourceIndex) -> tuple[Flagged, int]:
    out: Flagged = {}
    lost = 0
    for block in data if isinstance(data, list) else [data]:
        for f in block.get("results", {}).get("failed_checks", []):
            cat = CHECKOV.get(f["check_id"])
            if cat is None:
                continue
            file = norm_file(f.get("file_path", ""))
            if file not in index.by_file and "/" in file:  # Checkov prefixes the -d argument's last component
                file = file.split("/", 1)[1]
            kind, _, rest = str(f.get("resource", "")).partition(".")
            _ns, _, name = rest.partition(".")
            span = index.named(file, kind, name)
            if span is None and f.get("file_line_range"):
                span = index.at_line(file, int(f["file_line_range"][0]))
            if span is None:
                lost += 1
                continue
            _add(out, cat, span.key)
    return out, lost


_OF_KIND = re.compile(r"of (\w+) '([^']+)'")
_KIND_FIRST = re.compile(r"^(?:container \S+ of )?(\w+) '?([\w.:-]+)'? ")


def _trivy(data: Any, index: ResourceIndex) -> tuple[Flagged, int]:
    out: Flagged = {}
    lost = 0
    for result in data.get("Results", []) or []:
        file = norm_file(result.get("Target", ""))
        for m in result.get("Misconfigurations", []) or []:
            cat = TRIVY.get(m.get("ID", ""))
            if cat is None or m.get("Status", "FAIL") != "FAIL":
                continue
            span = None
            line = (m.get("CauseMetadata") or {}).get("StartLine") or 0
            if line > 0:
                span = index.at_line(file, line)
            msg = m.get("Message", "")
            for rx in (_OF_KIND, _KIND_FIRST):
                if span is None and (hit := rx.search(msg)):
                    span = index.named(file, hit.group(1), hit.group(2))
            if span is None and len(index.by_file.get(file, [])) == 1:
                span = index.by_file[file][0]
            if span is None:
                lost += 1
                continue
            _add(out, cat, span.key)
    return out, lost
