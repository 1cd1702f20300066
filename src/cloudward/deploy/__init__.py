"""The deploy stage: an admission webhook that enforces the rules of ``cloudward scan``.

``review(request, policy)`` is the pure core; ``answer(body, policy)`` wraps it
in AdmissionReview JSON (the server and ``cloudward admission review`` both
call it); ``serve`` in ``cloudward.deploy.server`` runs the HTTPS webhook.
"""

from cloudward.deploy.model import AdmissionDecision, AdmissionRequest, FailureMode, Mode, Operation, RuleResult
from cloudward.deploy.namespaces import NamespaceStore, load_namespaces
from cloudward.deploy.policy import AdmissionPolicy, default_policy, load_policy, parse_policy
from cloudward.deploy.review import review
from cloudward.deploy.wire import BadReview, answer, encode_response, parse_review

__all__ = [
    "AdmissionDecision",
    "AdmissionPolicy",
    "AdmissionRequest",
    "BadReview",
    "FailureMode",
    "Mode",
    "NamespaceStore",
    "Operation",
    "RuleResult",
    "answer",
    "default_policy",
    "encode_response",
    "load_namespaces",
    "load_policy",
    "parse_policy",
    "parse_review",
    "review",
]
