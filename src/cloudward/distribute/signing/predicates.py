"""Predicate types and the SLSA provenance v1 predicate for the build that made an image.

Short names are cosign's (``cosign attest --type``), so ``--type cyclonedx``
means the same URI in both tools. One deliberate difference: ``slsaprovenance``
*writes* SLSA provenance v1 (cosign still writes v0.2 for it); when verifying,
``slsaprovenance`` accepts either version. ``slsaprovenance02`` and
``slsaprovenance1`` name one version exactly. Any other ``scheme:...`` value is a
custom predicate type URI.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from cloudward.core.errors import InputError

SLSA_V1 = "https://slsa.dev/provenance/v1"
SLSA_V02 = "https://slsa.dev/provenance/v0.2"
PREDICATE_TYPES: dict[str, str] = {
    "slsaprovenance": SLSA_V1,
    "slsaprovenance1": SLSA_V1,
    "slsaprovenance02": SLSA_V02,
    "cyclonedx": "https://cyclonedx.org/bom",
    "spdx": "https://spdx.dev/Document",
    "spdxjson": "https://spdx.dev/Document",
    "vuln": "https://cosign.sigstore.dev/attestation/vuln/v1",
    "openvex": "https://openvex.dev/ns",
    "link": "https://in-toto.io/Link/v1",
    "custom": "https://cosign.sigstore.dev/attestation/v1",
}
_ACCEPTS = {"slsaprovenance": frozenset({SLSA_V1, SLSA_V02})}
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")
CI_BUILD_TYPE = "https://cloudward.io/buildtypes/ci/v1"
GITHUB_BUILD_TYPE = "https://actions.github.io/buildtypes/workflow/v1"


def predicate_type_uri(name: str) -> str:
    """The URI written for ``--type NAME``; ``InputError`` for an unknown name that is not a URI."""
    if name in PREDICATE_TYPES:
        return PREDICATE_TYPES[name]
    if _URI.match(name):
        return name
    raise InputError(f"--type: unknown predicate type {name!r}; use one of {', '.join(PREDICATE_TYPES)} "
                     "or a URI such as https://example.com/my-predicate/v1")


def accepted_types(name: str) -> frozenset[str]:
    """The predicate type URIs that satisfy ``--type NAME`` when verifying."""
    return _ACCEPTS.get(name) or frozenset({predicate_type_uri(name)})


def slsa_provenance(environ: Mapping[str, str], *, finished: dt.datetime | None = None,
                    external_parameters: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A SLSA provenance v1 predicate describing the CI job in ``environ`` (GitHub Actions, GitLab CI, else local).

    The environment is passed in (the CLI passes ``os.environ``) so the core reads no
    environment itself. Only facts the CI states are recorded; nothing is guessed.
    """
    finished = finished or dt.datetime.now(dt.UTC)
    metadata: dict[str, Any] = {"finishedOn": finished.strftime("%Y-%m-%dT%H:%M:%SZ")}
    deps: list[dict[str, Any]] = []
    params: dict[str, Any] = dict(external_parameters or {})
    internal: dict[str, Any] = {}
    if environ.get("GITHUB_ACTIONS") == "true":
        server = environ.get("GITHUB_SERVER_URL", "https://github.com")
        repo = environ.get("GITHUB_REPOSITORY", "")
        build_type = GITHUB_BUILD_TYPE
        workflow_ref = environ.get("GITHUB_WORKFLOW_REF", "")
        path = workflow_ref.split("@", 1)[0].removeprefix(f"{repo}/") if workflow_ref else ""
        params["workflow"] = {"ref": environ.get("GITHUB_REF", ""), "repository": f"{server}/{repo}", "path": path}
        internal["github"] = {k: environ[v] for k, v in (("event_name", "GITHUB_EVENT_NAME"),
                              ("repository_id", "GITHUB_REPOSITORY_ID"), ("runner_environment", "RUNNER_ENVIRONMENT"))
                              if environ.get(v)}
        hosted = environ.get("RUNNER_ENVIRONMENT") == "github-hosted"
        builder = f"{server}/actions/runner/github-hosted" if hosted else f"{server}/{workflow_ref}"
        if environ.get("GITHUB_RUN_ID"):
            metadata["invocationId"] = (f"{server}/{repo}/actions/runs/{environ['GITHUB_RUN_ID']}/attempts/"
                                        f"{environ.get('GITHUB_RUN_ATTEMPT', '1')}")
        if environ.get("GITHUB_SHA"):
            deps.append({"uri": f"git+{server}/{repo}@{environ.get('GITHUB_REF', '')}",
                         "digest": {"gitCommit": environ["GITHUB_SHA"]}})
    elif environ.get("GITLAB_CI") == "true":
        server = environ.get("CI_SERVER_URL", "https://gitlab.com")
        project = environ.get("CI_PROJECT_PATH", "")
        build_type = CI_BUILD_TYPE
        builder = f"{server}/{project}/-/runners/{environ['CI_RUNNER_ID']}" if environ.get("CI_RUNNER_ID") else server
        params["ci"] = {"system": "gitlab", "project": f"{server}/{project}",
                        "ref": environ.get("CI_COMMIT_REF_NAME", ""), "config": environ.get("CI_CONFIG_PATH", "")}
        if environ.get("CI_JOB_URL"):
            metadata["invocationId"] = environ["CI_JOB_URL"]
        if environ.get("CI_COMMIT_SHA"):
            deps.append({"uri": f"git+{server}/{project}@{environ.get('CI_COMMIT_REF_NAME', '')}",
                         "digest": {"gitCommit": environ["CI_COMMIT_SHA"]}})
    else:
        build_type = CI_BUILD_TYPE
        builder = "https://cloudward.io/builders/local"
        params.setdefault("ci", {"system": "none"})
    build_definition: dict[str, Any] = {"buildType": build_type, "externalParameters": params}
    if internal:
        build_definition["internalParameters"] = internal
    if deps:
        build_definition["resolvedDependencies"] = deps
    return {"buildDefinition": build_definition,
            "runDetails": {"builder": {"id": builder}, "metadata": metadata}}
