"""``review(request, policy) -> AdmissionDecision``: the pure core of the admission webhook.

The server and ``cloudward admission review`` only decode, call this and encode.
What it decides, in order:

1. DELETE and CONNECT are allowed without evaluation (no rule is about removing
   or exec-ing into an object; exec is an RBAC matter), and so are subresources
   other than ``pods/ephemeralcontainers`` (``status``, ``scale``, ``binding``,
   ``eviction``, ``exec``, ``attach``, ``portforward``, ``log``...): they carry
   no new pod spec. ``pods/ephemeralcontainers`` is judged as a Pod update,
   because ``kubectl debug`` adds a container there.
2. Exempt namespaces, usernames and runtime classes are allowed unevaluated, as
   in Pod Security Admission.
3. Kinds no rule covers are allowed.
4. Every violation gets a mode: the namespace's PSA labels (or the configured
   defaults) decide the PSS rules they cover — enforce, warn, audit — and every
   rule also has its configured mode (default ``warn``); the strongest wins.
5. UPDATE: violations the update removes are gone; introduced and kept ones
   count. When the update changes nothing outside ``metadata`` and ``status``
   (labels, annotations, finalizers, owner references), kept violations only
   warn, so existing workloads in a newly enforced namespace can still be
   relabelled, garbage-collected and deleted.
6. Config exceptions (``.cloudward.yaml``) lift any violation; inline
   ``cloudward.io/ignore`` annotations lift warnings and audits but never a
   denial: authors cannot exempt themselves from enforcement.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from cloudward.core.model import SuppressionSource
from cloudward.core.rules import RuleRegistry
from cloudward.deploy.evaluate import ADMISSION_FILE, Found, RuleSets, evaluate, registry_gate, violation_keys
from cloudward.deploy.gates import gate_rules
from cloudward.deploy.model import AdmissionDecision, AdmissionRequest, Mode, Operation, RuleResult
from cloudward.deploy.namespaces import NamespacePolicy, NamespaceStore, policy_for_labels
from cloudward.deploy.policy import AdmissionPolicy
from cloudward.develop.suppress import config_suppression
from cloudward.k8s.object import K8sObject
from cloudward.k8s.workloads import POD_SPEC_PATHS, as_dict, dig

#: Subresources whose object is a full pod spec worth judging.
EVALUATED_SUBRESOURCES = frozenset({"ephemeralcontainers"})
MAX_WARNING = 120  # the API server asks webhooks to keep each warning within 120 characters
MAX_WARNINGS = 40
MAX_DENIALS_LISTED = 25


class ReviewInputError(ValueError):
    """The request is not something the API server sends (e.g. CREATE without an object): HTTP 400."""


def review(request: AdmissionRequest, policy: AdmissionPolicy, namespaces: NamespaceStore | None = None, *,
           registry: RuleRegistry | None = None, today: dt.date | None = None) -> AdmissionDecision:
    """Decide one admission request; raises ``RuleCrash`` when a rule crashes (failure mode decides)."""
    today = today or dt.date.today()
    base: dict[str, Any] = {"uid": request.uid, "namespace": request.namespace, "dry_run": request.dry_run}
    notes: list[tuple[str, str]] = [("dry-run", "true")] if request.dry_run else []
    if request.operation in (Operation.DELETE, Operation.CONNECT):
        return _allow(base, notes, skipped=f"{request.operation.value} is not evaluated")
    if request.sub_resource and request.sub_resource not in EVALUATED_SUBRESOURCES:
        return _allow(base, notes, skipped=f"subresource {request.resource_display} is not evaluated")
    obj = request.object
    if not isinstance(obj, dict):
        raise ReviewInputError(f"request.object must be an object for {request.operation.value}")
    old = request.old_object if request.operation is Operation.UPDATE else None
    if request.operation is Operation.UPDATE and not isinstance(old, dict):
        raise ReviewInputError("request.oldObject must be an object for UPDATE")

    exempt = exemption(request, obj, policy)
    if exempt:
        return _allow(base, [*notes, ("decision", "exempt"), ("exempt", exempt)])
    rules = rule_sets(policy, registry)
    kind = obj.get("kind") if isinstance(obj.get("kind"), str) else request.kind[2]
    if kind not in rules.kinds:
        return _allow(base, notes, skipped=f"no rules for kind {kind}")
    if "kind" not in obj:
        obj = {**obj, "kind": kind}

    ns_policy = _namespace_policy(request.namespace, namespaces, policy, notes)
    plan = rules.plan(ns_policy.pss, ns_policy.rules_mode)
    inline = policy.inline_suppressions
    subject = K8sObject(obj, ADMISSION_FILE)
    found, extra = evaluate(subject, plan, policy.config.exceptions, inline, today)
    old_keys = violation_keys(K8sObject(old, ADMISSION_FILE), plan) if old is not None else set()
    significant = old is None or _content(obj) != _content(old)
    results = _results(found, old_keys, old is not None, significant, policy, subject, today)
    return _decide(base, notes, results, extra, ns_policy, kind, obj)


def _results(found: Found, old_keys: set[tuple[str, str]], update: bool, significant: bool,
             policy: AdmissionPolicy, subject: K8sObject, today: dt.date) -> list[RuleResult]:
    out: list[RuleResult] = []
    for key, (hit, mode) in found.items():
        kept = update and key in old_keys
        if kept and not significant and mode is Mode.ENFORCE:
            mode = Mode.WARN
        excepted: str | None = None
        if hit.suppressed is not None:
            if hit.suppressed.source is SuppressionSource.CONFIG:
                excepted = hit.suppressed.reason or "config exception"
            elif mode is not Mode.ENFORCE:
                excepted = hit.suppressed.reason or "inline annotation"
            else:  # inline annotations never lift a denial; a config exception still may
                sup, _ = config_suppression(policy.config.exceptions, today, hit.rule_id, subject.kind,
                                            subject.namespace, subject.name, subject.file, None)
                excepted = (sup.reason or "config exception") if sup else None
        out.append(RuleResult(hit.rule_id, mode, hit.message, hit.path, kept, excepted))
    out.sort(key=lambda r: (-r.mode, r.rule_id, r.path))
    return out


# -- the decision ---------------------------------------------------------------

def _decide(base: dict[str, Any], notes: list[tuple[str, str]], results: list[RuleResult], extra: list[str],
            ns: NamespacePolicy, kind: str, obj: dict[str, Any]) -> AdmissionDecision:
    live = [r for r in results if r.excepted is None]
    denied = [r for r in live if r.mode is Mode.ENFORCE]
    warned = [r for r in live if r.mode is Mode.WARN]
    audited = [r for r in live if r.mode is Mode.AUDIT]
    annotations = dict(notes)
    annotations["decision"] = "denied" if denied else "allowed"
    annotations["pss-enforce"] = ns.pss.enforce.display()
    for name, group in (("enforce-violations", denied), ("warn-violations", warned), ("audit-violations", audited)):
        if group:
            annotations[name] = ",".join(sorted({r.rule_id for r in group}))
    excepted = sorted({r.rule_id for r in results if r.excepted is not None})
    if excepted:
        annotations["excepted"] = ",".join(excepted)
    if ns.errors:
        annotations["namespace-label-errors"] = "; ".join(ns.errors)
    warnings = [_clip(f"{r.rule_id}: {r.message}") for r in warned]
    warnings += [_clip(f"cloudward: {n}") for n in extra + [f"namespace label {e}" for e in ns.errors]]
    warnings = list(dict.fromkeys(warnings))
    if len(warnings) > MAX_WARNINGS:
        warnings = [*warnings[: MAX_WARNINGS - 1], f"cloudward: {len(warnings) - MAX_WARNINGS + 1} more warnings"]
    message = ""
    if denied:
        md = as_dict(obj.get("metadata"))
        name = md.get("name") or md.get("generateName") or "<unnamed>"
        listed = [f"{r.rule_id} at {r.path}: {r.message}" for r in denied[:MAX_DENIALS_LISTED]]
        if len(denied) > MAX_DENIALS_LISTED:
            listed.append(f"and {len(denied) - MAX_DENIALS_LISTED} more")
        ns_name = md.get("namespace")
        where = f"{ns_name}/" if isinstance(ns_name, str) and ns_name else ""
        message = f"cloudward denied {kind} {where}{name}: " + "; ".join(listed)
    return AdmissionDecision(
        **base, allowed=not denied, code=403 if denied else 200, message=message,
        reason="Forbidden" if denied else "", warnings=tuple(warnings),
        audit_annotations=tuple(sorted(annotations.items())), results=tuple(results))


def _allow(base: dict[str, Any], notes: list[tuple[str, str]], skipped: str | None = None) -> AdmissionDecision:
    annotations = dict(notes)
    if skipped:
        annotations["decision"] = "skipped"
        annotations["skipped"] = skipped
    return AdmissionDecision(**base, allowed=True, audit_annotations=tuple(sorted(annotations.items())))


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_WARNING else text[: MAX_WARNING - 3] + "..."


# -- helpers ------------------------------------------------------------------------

@functools.lru_cache(maxsize=16)
def rule_sets(policy: AdmissionPolicy, registry: RuleRegistry | None) -> RuleSets:
    if registry is None:
        from cloudward.rules import builtin_rules

        registry = builtin_rules()
    gates = [registry_gate(policy.images.allowed_registries)] if policy.images.allowed_registries else []
    return RuleSets(registry, policy, gates + gate_rules(policy))


def _namespace_policy(namespace: str, store: NamespaceStore | None, policy: AdmissionPolicy,
                      notes: list[tuple[str, str]]) -> NamespacePolicy:
    labels = store.labels(namespace) if store is not None and namespace else None
    if store is not None and namespace and labels is None:
        notes.append(("namespace-unknown", namespace))
    return policy_for_labels(labels, policy.pss_defaults)


def exemption(request: AdmissionRequest, obj: dict[str, Any], policy: AdmissionPolicy) -> str | None:
    ex = policy.exemptions
    if request.namespace and request.namespace in ex.namespaces:
        return "namespace"
    if request.user.username and request.user.username in ex.usernames:
        return "user"
    if ex.runtime_classes:
        kind = obj.get("kind") if isinstance(obj.get("kind"), str) else request.kind[2]
        path = POD_SPEC_PATHS.get(str(kind))
        runtime = dig(obj, *path, "runtimeClassName") if path else None
        if isinstance(runtime, str) and runtime in ex.runtime_classes:
            return "runtimeClass"
    return None


def _content(obj: dict[str, Any]) -> dict[str, Any]:
    """What an update changes besides metadata and status (which no rule judges on their own)."""
    return {k: v for k, v in obj.items() if k not in ("metadata", "status")}
