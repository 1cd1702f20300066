"""The deploy stage's public surface and the shipped test doubles."""

from __future__ import annotations

import cloudward.deploy
import cloudward.testing


def test_public_api_is_pinned() -> None:
    assert set(cloudward.deploy.__all__) == {
        "AdmissionDecision", "AdmissionPolicy", "AdmissionRequest", "BadReview", "FailureMode", "Mode",
        "NamespaceStore", "Operation", "RuleResult", "answer", "default_policy", "encode_response",
        "load_namespaces", "load_policy", "parse_policy", "parse_review", "review"}
    assert cloudward.testing.__all__ == ["admission_review", "resource_for_kind"]


def test_builder_matches_the_captured_shape() -> None:
    import json

    from .conftest import DATA

    captured = json.loads((DATA / "pod-create-kubectl.json").read_text())
    built = cloudward.testing.admission_review(captured["request"]["object"], uid="u")
    assert set(built["request"]) >= set(captured["request"]) - {"options"}
    for key in ("kind", "resource", "requestKind", "requestResource", "name", "namespace", "operation"):
        assert built["request"][key] == captured["request"][key], key
