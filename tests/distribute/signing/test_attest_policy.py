"""Attestations on images (.att), SLSA provenance from CI variables, and verification policies."""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path

import pytest

from cloudward.core.errors import ConfigError, InputError
from cloudward.distribute.signing import (
    AllOf,
    AnyOf,
    ImageUnderCheck,
    NotVerifiedError,
    attest_image,
    load_policy,
    parse_statement,
    predicate_type_uri,
    sign_image,
    slsa_provenance,
    verify_image_attestations,
)
from cloudward.distribute.signing.cosign import PREDICATE_TYPE_ANNOTATION
from cloudward.distribute.signing.dsse import DSSE_MEDIA_TYPE, Envelope
from cloudward.distribute.signing.images import tag_for
from cloudward.distribute.signing.keys import public_key_pem, unsafe_plaintext_private_key
from cloudward.distribute.signing.predicates import SLSA_V1, accepted_types
from tests.distribute.signing.conftest import push_image
from tests.distribute.signing.helpers import run_cli

GITHUB_ENV = {"GITHUB_ACTIONS": "true", "GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "acme/shop",
              "GITHUB_SHA": "0" * 39 + "1", "GITHUB_REF": "refs/heads/main", "GITHUB_RUN_ID": "77",
              "GITHUB_RUN_ATTEMPT": "2", "GITHUB_WORKFLOW_REF": "acme/shop/.github/workflows/build.yml@refs/heads/main",
              "RUNNER_ENVIRONMENT": "github-hosted", "GITHUB_EVENT_NAME": "push"}


def test_slsa_provenance_from_github_actions_variables() -> None:
    when = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    p = slsa_provenance(GITHUB_ENV, finished=when)
    bd, rd = p["buildDefinition"], p["runDetails"]
    assert bd["buildType"] == "https://actions.github.io/buildtypes/workflow/v1"
    assert bd["externalParameters"]["workflow"] == {"ref": "refs/heads/main", "repository": "https://github.com/acme/shop",
                                                    "path": ".github/workflows/build.yml"}
    assert bd["resolvedDependencies"] == [{"uri": "git+https://github.com/acme/shop@refs/heads/main",
                                           "digest": {"gitCommit": "0" * 39 + "1"}}]
    assert rd["builder"]["id"] == "https://github.com/actions/runner/github-hosted"
    assert rd["metadata"] == {"invocationId": "https://github.com/acme/shop/actions/runs/77/attempts/2",
                              "finishedOn": "2026-01-02T03:04:05Z"}


def test_slsa_provenance_from_gitlab_and_without_ci() -> None:
    p = slsa_provenance({"GITLAB_CI": "true", "CI_SERVER_URL": "https://gitlab.example", "CI_PROJECT_PATH": "g/p",
                         "CI_COMMIT_SHA": "ab" * 20, "CI_COMMIT_REF_NAME": "main", "CI_JOB_URL": "https://j/1"})
    assert p["buildDefinition"]["resolvedDependencies"][0]["digest"] == {"gitCommit": "ab" * 20}
    assert p["runDetails"]["metadata"]["invocationId"] == "https://j/1"
    local = slsa_provenance({})
    assert local["runDetails"]["builder"]["id"] == "https://cloudward.io/builders/local"
    assert "resolvedDependencies" not in local["buildDefinition"]


def test_predicate_type_names_match_cosigns() -> None:
    assert predicate_type_uri("cyclonedx") == "https://cyclonedx.org/bom"
    assert predicate_type_uri("spdx") == "https://spdx.dev/Document"
    assert predicate_type_uri("vuln") == "https://cosign.sigstore.dev/attestation/vuln/v1"
    assert predicate_type_uri("https://example.com/p/v1") == "https://example.com/p/v1"
    assert accepted_types("slsaprovenance") == {SLSA_V1, "https://slsa.dev/provenance/v0.2"}
    with pytest.raises(InputError, match="unknown predicate type"):
        predicate_type_uri("sbom")


def test_attest_stores_a_dsse_statement_like_cosign_and_verifies(registry, image, signer, other_signer) -> None:
    ref, digest = image
    client = registry.client()
    pushed = attest_image(client, ref, signer, SLSA_V1, slsa_provenance(GITHUB_ENV))
    assert pushed.tag == tag_for(digest, "att")
    (layer,) = client.get_artifact_manifest(ref.repository, pushed.tag).layers
    assert layer.media_type == DSSE_MEDIA_TYPE
    assert layer.annotation(PREDICATE_TYPE_ANNOTATION) == SLSA_V1
    env = Envelope.from_json(client.get_blob(ref.repository, layer))
    stmt = parse_statement(env.payload, allow_v01=False)
    assert stmt.type == "https://in-toto.io/Statement/v1"
    assert [s.to_dict() for s in stmt.subjects] == [{"name": f"{registry.host}/{ref.repository}",
                                                      "digest": {"sha256": digest.removeprefix("sha256:")}}]
    attest_image(client, ref, signer, "https://cyclonedx.org/bom", {"bomFormat": "CycloneDX"})
    ok = verify_image_attestations(client, ref, [signer.public_key()], predicate_types=accepted_types("cyclonedx"))
    assert [s.predicate_type for s in ok.statements] == ["https://cyclonedx.org/bom"]
    assert len(ok.rejected) == 1 and "not https://cyclonedx.org/bom" in ok.rejected[0]
    with pytest.raises(NotVerifiedError, match="predicate type is"):
        verify_image_attestations(client, ref, [signer.public_key()], predicate_types={"https://spdx.dev/Document"})
    with pytest.raises(NotVerifiedError, match="envelope signature does not verify"):
        verify_image_attestations(client, ref, [other_signer.public_key()])


def test_attestation_replayed_onto_another_image_fails(registry, image, signer) -> None:
    ref, first = image
    client = registry.client()
    attest_image(client, ref, signer, SLSA_V1, {"buildDefinition": {}})
    other, second = push_image(registry, ref.repository, "other")
    raw = client.get_artifact_manifest(ref.repository, tag_for(first, "att")).raw
    client.push_manifest(ref.repository, tag_for(second, "att"), raw, "application/vnd.oci.image.manifest.v1+json")
    with pytest.raises(NotVerifiedError, match="subjects do not include this image"):
        verify_image_attestations(client, other, [signer.public_key()])


def test_cli_attest_and_verify_attestation(registry, image, tmp_path, monkeypatch) -> None:
    ref, _ = image
    from cloudward.distribute.signing import generate_key

    key = generate_key()
    (tmp_path / "k.key").write_bytes(unsafe_plaintext_private_key(key))
    (tmp_path / "k.pub").write_bytes(public_key_pem(key))
    (tmp_path / "bom.json").write_text(json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.6"}))
    img, flag = f"{registry.host}/{ref.repository}:v1", "--allow-insecure-registry"
    for k, v in GITHUB_ENV.items():
        monkeypatch.setenv(k, v)
    assert run_cli(["attest", img, "--predicate", str(tmp_path / "bom.json"), "--type", "cyclonedx",
                    "--key", str(tmp_path / "k.key"), flag]).code == 0
    assert run_cli(["attest", img, "--generate-provenance", "--type", "slsaprovenance",
                    "--key", str(tmp_path / "k.key"), flag]).code == 0
    out = run_cli(["verify-attestation", img, "--type", "slsaprovenance", "--key", str(tmp_path / "k.pub"),
                   "--output", "json", flag])
    assert out.code == 0, out.err
    (stmt,) = json.loads(out.out)["statements"]
    assert stmt["predicate"]["runDetails"]["metadata"]["invocationId"].endswith("/runs/77/attempts/2")
    missing = run_cli(["verify-attestation", img, "--type", "spdx", "--key", str(tmp_path / "k.pub"), flag])
    assert missing.code == 1 and "predicate type is" in missing.err
    bad_type = run_cli(["attest", img, "--predicate", str(tmp_path / "bom.json"), "--type", "bogus",
                        "--key", str(tmp_path / "k.key"), flag])
    assert bad_type.code == 2 and "unknown predicate type" in bad_type.err


# -- policy ------------------------------------------------------------------------------------------------------
def _policy(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(text)
    return path


def _keys(tmp_path: Path, **signers) -> None:
    for name, s in signers.items():
        (tmp_path / f"{name}.pub").write_bytes(public_key_pem(s.public_key()))


def test_policy_k_of_n_and_required_attestation(registry, image, signer, other_signer, tmp_path) -> None:
    ref, _ = image
    client = registry.client()
    _keys(tmp_path, a=signer, b=other_signer)
    policy = load_policy(_policy(tmp_path, f"""
version: 1
policies:
  - name: prod
    images: ["{registry.host}/test/**"]
    require:
      - signature: {{keys: [a.pub, b.pub], threshold: 2}}
      - attestation: {{type: slsaprovenance, keys: [a.pub]}}
"""))
    check = ImageUnderCheck(ref, client)
    sign_image(client, ref, signer)
    with pytest.raises(NotVerifiedError, match="policy 'prod': 2 distinct keys required, 1 verified"):
        policy.evaluate(check)
    sign_image(client, ref, other_signer)
    with pytest.raises(NotVerifiedError, match="no attestations found"):
        policy.evaluate(check)
    attest_image(client, ref, signer, SLSA_V1, slsa_provenance({}))
    result = policy.evaluate(check)
    assert result.policies == ("prod",) and len(result.verified) == 3


def test_policy_any_of_and_fail_closed_for_uncovered_images(registry, image, signer, other_signer, tmp_path) -> None:
    ref, _ = image
    client = registry.client()
    _keys(tmp_path, a=signer, b=other_signer)
    policy = load_policy(_policy(tmp_path, f"""
policies:
  - images: ["{registry.host}/test/*"]
    require:
      - anyOf:
          - signature: {{keys: [a.pub]}}
          - signature: {{keys: [b.pub]}}
"""))
    sign_image(client, ref, other_signer)
    assert policy.evaluate(ImageUnderCheck(ref, client)).verified
    nested, _ = push_image(registry, "elsewhere/deep/app")
    with pytest.raises(NotVerifiedError, match=r"no policy .* covers"):
        policy.evaluate(ImageUnderCheck(nested, client))


def test_unsafe_allow_unsigned_warns_on_every_use(registry, tmp_path, caplog) -> None:
    ref, _ = push_image(registry, "scratch/app")
    policy = load_policy(_policy(tmp_path, f"policies:\n  - images: ['{registry.host}/scratch/*']\n"
                                           "    unsafeAllowUnsigned: true\n"))
    with caplog.at_level(logging.WARNING):
        policy.evaluate(ImageUnderCheck(ref, registry.client()))
        policy.evaluate(ImageUnderCheck(ref, registry.client()))
    assert sum("UNSAFE" in r.message for r in caplog.records) == 2


@pytest.mark.parametrize(("text", "message"), [
    ("", "empty"),
    ("policies: []\n", "non-empty list"),
    ("policies:\n  - images: ['a/*']\n", "require"),
    ("policies:\n  - images: ['a/*']\n    require: []\n", "at least one requirement"),
    ("policies:\n  - images: ['a/*']\n    require:\n      - anyOf: []\n", "non-empty list of requirements"),
    ("policies:\n  - images: ['a/*']\n    require:\n      - signature: {keys: [a.pub], threshold: 2}\n", "1 to 1"),
    ("policies:\n  - images: ['a/*']\n    require:\n      - signature: {keys: [missing.pub]}\n", "not found"),
    ("policies:\n  - images: ['a/*']\n    require:\n      - attestation: {keys: [a.pub], type: nope}\n",
     "unknown predicate type"),
    ("policies:\n  - images: ['a/*']\n    requires: []\n", "unknown field 'requires'"),
    ("policies: [\n", "not valid YAML"),
])
def test_policy_misuse_is_refused(tmp_path: Path, signer, text: str, message: str) -> None:
    _keys(tmp_path, a=signer)
    with pytest.raises(ConfigError, match=message) as e:
        load_policy(_policy(tmp_path, text))
    assert str(tmp_path / "policy.yaml") in str(e.value) and e.value.exit_code == 2


def test_empty_combinators_are_refused_in_code_too() -> None:
    with pytest.raises(ValueError, match="empty AllOf"):
        AllOf(())
    with pytest.raises(ValueError, match="empty AnyOf"):
        AnyOf(())


def test_cli_verify_with_policy(registry, image, signer, tmp_path) -> None:
    ref, _ = image
    _keys(tmp_path, a=signer)
    path = _policy(tmp_path, f"policies:\n  - images: ['{registry.host}/**']\n    require:\n"
                             "      - signature: {keys: [a.pub]}\n")
    img = f"{registry.host}/{ref.repository}:v1"
    assert run_cli(["verify", "--policy", str(path), img, "--allow-insecure-registry"]).code == 1
    sign_image(registry.client(), ref, signer)
    assert run_cli(["verify", "--policy", str(path), img, "--allow-insecure-registry"]).code == 0
    assert run_cli(["verify", "--policy", str(tmp_path / "none.yaml"), img, "--allow-insecure-registry"]).code == 2
