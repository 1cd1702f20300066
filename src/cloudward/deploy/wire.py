"""AdmissionReview JSON in and out, and the one code path the server and the CLI share.

``answer(body, ...)`` decodes one AdmissionReview, calls ``review()``, applies
the failure mode to internal errors and encodes the response. Malformed input
raises ``BadReview`` (the server answers 400, the CLI exits 2) with a one-line
message naming the field; it never reaches the rules.

JSON is decoded with orjson (about 10x faster than ``json`` on AdmissionReview
sized documents, and it refuses invalid UTF-8 and lone surrogates); nesting is
bounded by the decoder (1024 levels).
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import logging
from typing import Any

import orjson

from cloudward.core.rules import RuleRegistry
from cloudward.deploy.evaluate import RuleCrash
from cloudward.deploy.gates import pin_patch
from cloudward.deploy.model import AdmissionDecision, AdmissionRequest, FailureMode, Operation, UserInfo
from cloudward.deploy.namespaces import NamespaceStore
from cloudward.deploy.policy import AdmissionPolicy
from cloudward.deploy.review import EVALUATED_SUBRESOURCES, ReviewInputError, exemption, review

log = logging.getLogger(__name__)

API_VERSIONS = ("admission.k8s.io/v1", "admission.k8s.io/v1beta1")
#: orjson refuses deeper documents; nothing of ours recurses on the object, so this is the only bound.
MAX_DEPTH = 1024


class BadReview(ValueError):
    """The body is not a valid AdmissionReview request; the message says which field and why."""


@dataclasses.dataclass(frozen=True, slots=True)
class Answer:
    """An encoded response and the decision behind it (for metrics and logs)."""

    body: bytes
    decision: AdmissionDecision
    kind: str
    operation: str


def parse_review(body: bytes | str) -> AdmissionRequest:
    """Decode and validate one AdmissionReview request."""
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as e:
        if "depth" in str(e) or "recursion" in str(e):
            raise BadReview(f"body is nested more than {MAX_DEPTH} levels deep; refusing to evaluate it") from None
        raise BadReview(f"body is not valid JSON: {e}") from None
    if not isinstance(doc, dict):
        raise BadReview("body must be a JSON object (an AdmissionReview)")
    api_version, kind = doc.get("apiVersion"), doc.get("kind")
    if kind != "AdmissionReview":
        raise BadReview(f"kind is {kind!r}, expected 'AdmissionReview'")
    if api_version not in API_VERSIONS:
        raise BadReview(f"apiVersion is {api_version!r}, expected one of {', '.join(API_VERSIONS)}")
    req = doc.get("request")
    if not isinstance(req, dict):
        raise BadReview("request is missing or not an object")
    uid = req.get("uid")
    if not isinstance(uid, str) or not uid:
        raise BadReview("request.uid is missing or empty; the API server always sends one")
    try:
        operation = Operation(req.get("operation"))
    except ValueError:
        raise BadReview(f"request.operation is {req.get('operation')!r}, expected CREATE, UPDATE, DELETE or "
                        "CONNECT") from None
    raw_user = req.get("userInfo")
    user: dict[str, Any] = raw_user if isinstance(raw_user, dict) else {}
    groups = user.get("groups")
    return AdmissionRequest(
        uid=uid, operation=operation, kind=_triple(req.get("kind"), "kind"),
        resource=_triple(req.get("resource"), "resource"), sub_resource=_str(req.get("subResource")),
        name=_str(req.get("name")), namespace=_str(req.get("namespace")),
        user=UserInfo(_str(user.get("username")),
                      tuple(g for g in groups if isinstance(g, str)) if isinstance(groups, list) else ()),
        object=_obj(req.get("object"), "request.object"), old_object=_obj(req.get("oldObject"), "request.oldObject"),
        dry_run=req.get("dryRun") is True, api_version=str(api_version))


def encode_response(decision: AdmissionDecision, api_version: str = "admission.k8s.io/v1") -> bytes:
    """The response AdmissionReview, exactly the fields the API defines."""
    response: dict[str, Any] = {"uid": decision.uid, "allowed": decision.allowed}
    if not decision.allowed or decision.message:
        status: dict[str, Any] = {"code": decision.code, "message": decision.message}
        if decision.reason:
            status["reason"] = decision.reason
        response["status"] = status
    if decision.warnings:
        response["warnings"] = list(decision.warnings)
    if decision.audit_annotations:
        response["auditAnnotations"] = dict(decision.audit_annotations)
    if decision.patch is not None:
        response["patchType"] = "JSONPatch"
        response["patch"] = base64.b64encode(decision.patch).decode("ascii")
    return orjson.dumps({"apiVersion": api_version, "kind": "AdmissionReview", "response": response})


def answer(body: bytes | str, policy: AdmissionPolicy, namespaces: NamespaceStore | None = None, *,
           registry: RuleRegistry | None = None, mutate: bool = False,
           today: dt.date | None = None) -> Answer:
    """Decode, decide, encode; internal errors follow ``policy.failure_mode``. Raises ``BadReview``."""
    return answer_request(parse_review(body), policy, namespaces, registry=registry, mutate=mutate, today=today)


def answer_request(request: AdmissionRequest, policy: AdmissionPolicy, namespaces: NamespaceStore | None = None,
                   *, registry: RuleRegistry | None = None, mutate: bool = False,
                   today: dt.date | None = None) -> Answer:
    """Decide and encode an already decoded request (the server decodes first to see if gates need a registry)."""
    if mutate:
        return _mutate(request, policy, namespaces)
    try:
        decision = review(request, policy, namespaces, registry=registry, today=today)
    except ReviewInputError as e:
        raise BadReview(str(e)) from None
    except RecursionError:  # comparing old and new objects nested near the decoder's bound
        raise BadReview("request.object is nested too deeply to compare; refusing to evaluate it") from None
    except (RuleCrash, Exception) as e:  # noqa: BLE001 — every internal error must become a deliberate answer
        decision = failure_decision(request, policy.failure_mode, e)
    return encoded(request, decision)


def encoded(request: AdmissionRequest, decision: AdmissionDecision) -> Answer:
    """The ``Answer`` for ``decision``, encoded in the request's AdmissionReview version."""
    return Answer(encode_response(decision, request.api_version), decision, request.kind[2],
                  request.operation.value)


def _mutate(request: AdmissionRequest, policy: AdmissionPolicy, namespaces: NamespaceStore | None) -> Answer:
    """``/mutate``: pin images the signature gate verified to their digest; never denies.

    Only CREATE and UPDATE of objects with a pod spec, outside exempt
    namespaces, users and runtime classes, are patched; the validating
    endpoint does the judging (and, with the verdicts now cached, without
    another registry round trip).
    """
    kind = request.kind[2]
    patch: bytes | None = None
    warnings: list[str] = []
    obj = request.object
    judged = request.operation in (Operation.CREATE, Operation.UPDATE) and isinstance(obj, dict) and (
        not request.sub_resource or request.sub_resource in EVALUATED_SUBRESOURCES)
    if judged and isinstance(obj, dict) and exemption(request, obj, policy) is None:
        try:
            patch, warnings = pin_patch(obj if "kind" in obj else {**obj, "kind": kind}, policy)
        except Exception as e:  # /mutate admits unchanged on any internal error, and says so
            log.error("cannot pin images of %s %s/%s: %s", kind, request.namespace, request.name, e, exc_info=True)
            warnings = [f"cloudward: images not pinned to digests (internal error: {type(e).__name__})"]
    notes = (("pinned", str(len(orjson.loads(patch)))),) if patch else ()
    decision = AdmissionDecision(uid=request.uid, allowed=True, namespace=request.namespace, dry_run=request.dry_run,
                                 patch=patch, warnings=tuple(warnings), audit_annotations=notes)
    return Answer(encode_response(decision, request.api_version), decision, kind, request.operation.value)


def failure_decision(request: AdmissionRequest, mode: FailureMode, error: BaseException) -> AdmissionDecision:
    """Deny (closed) or allow with a warning (open) when evaluation failed; never a silent pass."""
    what = f"{type(error).__name__}: {error}" if not isinstance(error, RuleCrash) else str(error)
    log.error("internal error reviewing %s %s/%s (uid %s): %s", request.kind[2], request.namespace, request.name,
              request.uid, what, exc_info=not isinstance(error, RuleCrash))
    notes = (("decision", "error"), ("error", what[:500]))
    if mode is FailureMode.CLOSED:
        return AdmissionDecision(
            uid=request.uid, allowed=False, code=500, reason="InternalError", namespace=request.namespace,
            message=f"cloudward could not evaluate this request and fails closed (admission.failure_mode: closed): "
            f"{what}", audit_annotations=notes, dry_run=request.dry_run, error=what)
    warning = "cloudward: internal error, request allowed unevaluated (admission.failure_mode: open)"
    return AdmissionDecision(uid=request.uid, allowed=True, warnings=(warning,), audit_annotations=notes,
                             namespace=request.namespace, dry_run=request.dry_run, error=what)


def _triple(value: Any, field: str) -> tuple[str, str, str]:
    if value is None:
        return ("", "", "")
    if not isinstance(value, dict):
        raise BadReview(f"request.{field} must be an object with group, version and {field}")
    return (_str(value.get("group")), _str(value.get("version")), _str(value.get(field)))


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _obj(value: Any, field: str) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise BadReview(f"{field} must be an object or null")
    return value
