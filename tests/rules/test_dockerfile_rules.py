"""Dockerfile rules, checked directly on parsed Dockerfiles: lines, messages, edge cases."""

from __future__ import annotations

import pytest

from cloudward.core.rules import RuleContext, RuleRegistry, Target
from cloudward.develop.dockerfile import parse_dockerfile
from cloudward.rules.dockerfile import RULES

BY_ID = {r.id: r for r in RULES}


def lines(rule_id: str, text: str) -> list[int]:
    df = parse_dockerfile(text, "Dockerfile")
    return [v.line for v in BY_ID[rule_id].check(df, RuleContext()) if v.line is not None]


def messages(rule_id: str, text: str) -> list[str]:
    df = parse_dockerfile(text, "Dockerfile")
    return [v.message for v in BY_ID[rule_id].check(df, RuleContext())]


# -- metadata ------------------------------------------------------------------


def test_rules_register_cleanly_with_dockerfile_target_and_metadata() -> None:
    registry = RuleRegistry(RULES)
    assert len(registry) == len(RULES) == 16
    for rule in RULES:
        assert rule.id.startswith("dockerfile.")
        assert rule.target is Target.DOCKERFILE
        assert rule.kinds == frozenset()
        assert rule.description and rule.remediation and rule.references


def test_curl_pipe_maps_to_unix_shell_and_secrets_to_credentials_in_files() -> None:
    assert "T1059.004" in BY_ID["dockerfile.curl-pipe-shell"].controls.attack
    assert "T1552.001" in BY_ID["dockerfile.secret-in-env"].controls.attack
    assert any("4.1:" in ref for ref in BY_ID["dockerfile.user-root"].references)


# -- dockerfile.user-root ------------------------------------------------------


def test_user_only_in_builder_stage_fails_at_final_from() -> None:
    text = "FROM golang:1.22 AS build\nUSER app\nFROM alpine:3.20\nCOPY --from=build /a /a\n"
    assert lines("dockerfile.user-root", text) == [3]
    assert messages("dockerfile.user-root", text) == [
        "final stage (FROM alpine:3.20) sets no USER, so the container runs as root"]


def test_user_in_final_stage_passes() -> None:
    assert lines("dockerfile.user-root", "FROM golang:1.22 AS build\nFROM alpine:3.20\nUSER 10001:10001\n") == []


def test_final_stage_from_builder_with_user_inherits_it() -> None:
    assert lines("dockerfile.user-root", "FROM alpine:3.20 AS base\nUSER app\nFROM base\nRUN id\n") == []


def test_root_reset_after_inherited_user_fails_on_the_user_line() -> None:
    text = "FROM alpine:3.20 AS base\nUSER app\nFROM base\nUSER 0:0\n"
    assert lines("dockerfile.user-root", text) == [4]


def test_inherited_root_user_names_the_stage() -> None:
    text = "FROM alpine:3.20 AS base\nUSER root\nFROM base\nRUN id\n"
    assert lines("dockerfile.user-root", text) == [2]
    assert messages("dockerfile.user-root", text) == [
        'final stage runs as root: USER root (inherited from stage "base")']


@pytest.mark.parametrize("user", ["root", "0", "root:root", "0:0", "root:1000", "${U}"])
def test_root_spellings_fail(user: str) -> None:
    assert lines("dockerfile.user-root", f"FROM alpine:3.20\nENV U=root\nUSER {user}\n") == [3]


@pytest.mark.parametrize("user", ["rootless", "1000:0", "00x", "app:root", "${UNKNOWN}"])
def test_non_root_or_unknown_users_pass(user: str) -> None:
    assert lines("dockerfile.user-root", f"FROM alpine:3.20\nUSER {user}\n") == []


def test_scratch_without_user_fails() -> None:
    assert lines("dockerfile.user-root", "FROM scratch\nCOPY app /app\n") == [1]


# -- base images -----------------------------------------------------------------


def test_latest_resolved_through_global_arg() -> None:
    text = "ARG IMAGE=nginx\nARG TAG=latest\nFROM ${IMAGE}:${TAG}\n"
    assert lines("dockerfile.base-image-latest", text) == [3]
    assert messages("dockerfile.base-image-latest", text) == [
        "FROM ${IMAGE}:${TAG} (= nginx:latest) uses the mutable 'latest' tag"]


def test_arg_overridden_tag_default_is_not_latest() -> None:
    assert lines("dockerfile.base-image-latest", "ARG TAG=1.27\nFROM nginx:${TAG}\n") == []


def test_stage_reference_scratch_and_digest_are_not_latest() -> None:
    digest = "sha256:" + "ab" * 32
    text = f"FROM scratch AS a\nFROM nginx@{digest} AS b\nFROM b\n"
    assert lines("dockerfile.base-image-latest", text) == []


def test_digest_rule_reports_each_unpinned_external_stage() -> None:
    digest = "sha256:" + "ab" * 32
    text = f"FROM golang:1.22 AS build\nFROM build AS test\nFROM alpine:3.20@{digest}\nFROM node:20\n"
    assert lines("dockerfile.base-image-digest", text) == [1, 4]


# -- healthcheck -----------------------------------------------------------------


def test_healthcheck_missing_reports_final_from_and_none_reports_its_line() -> None:
    assert lines("dockerfile.missing-healthcheck", "FROM a:1 AS b\nHEALTHCHECK CMD true\nFROM c:1\n") == [3]
    assert lines("dockerfile.missing-healthcheck", "FROM a:1\nHEALTHCHECK CMD true\nHEALTHCHECK NONE\n") == [3]
    assert lines("dockerfile.missing-healthcheck", "FROM a:1 AS b\nHEALTHCHECK CMD true\nFROM b\n") == []


# -- expose-ssh ------------------------------------------------------------------


@pytest.mark.parametrize(("expose", "expected"), [
    ("22", [2]), ("22/tcp", [2]), ("1-1024", [2]), ("22/udp", []), ("2222", []), ("23-25", []), ("$P", [2])])
def test_expose_ssh(expose: str, expected: list[int]) -> None:
    assert lines("dockerfile.expose-ssh", f"FROM a:1\nEXPOSE {expose}\nENV P=22\n") == (
        [] if expose == "$P" else expected)
    assert lines("dockerfile.expose-ssh", f"FROM a:1\nENV P=22\nEXPOSE {expose}\n") == (
        [3] if expected else [])


# -- ADD ---------------------------------------------------------------------------


def test_add_url_reported_on_first_line_of_continued_instruction() -> None:
    text = "FROM a:1\nADD \\\n  https://example.com/x.tgz \\\n  /opt/\n"
    assert lines("dockerfile.add-url", text) == [2]
    assert messages("dockerfile.add-url", text) == ['ADD downloads "https://example.com/x.tgz" without --checksum']


def test_add_url_with_checksum_or_git_passes() -> None:
    text = "FROM a:1\nADD --checksum=sha256:00 https://e.com/x /x\nADD https://github.com/o/r.git#v1 /src\n"
    assert lines("dockerfile.add-url", text) == []


def test_add_local_archive_is_fine_but_plain_file_is_not() -> None:
    assert lines("dockerfile.add-instead-of-copy", "FROM a:1\nADD app.tar.gz /\nADD *.tgz /opt/\n") == []
    assert lines("dockerfile.add-instead-of-copy", "FROM a:1\nADD --chown=1:1 app.jar /app/\n") == [2]


# -- secrets -----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["DB_PASSWORD", "apiKey", "API_KEY", "AWS_SECRET_ACCESS_KEY", "GITHUB_TOKEN",
                                  "SSH_PRIVATE_KEY", "clientSecret", "SMTP_PASS", "SECRET_KEY_BASE"])
def test_secret_names_with_literal_values_fail(name: str) -> None:
    assert lines("dockerfile.secret-in-env", f"FROM a:1\nENV {name}=s3cr3t-value\n") == [2]
    assert lines("dockerfile.secret-in-env", f"FROM a:1\nARG {name}=s3cr3t-value\n") == [2]


@pytest.mark.parametrize("assignment", ["PASSWORD_FILE=/run/secrets/pw", "GPG_KEY=ABCDEF", "TOKEN_URL=https://x",
                                        "DB_PASSWORD=", "API_TOKEN=$API_TOKEN", "USE_TOKEN=true",
                                        "TOKENIZERS_PARALLELISM=false", "PWD=/src", "AWS_ACCESS_KEY_ID=${ID}"])
def test_non_secret_names_or_values_pass(assignment: str) -> None:
    assert lines("dockerfile.secret-in-env", f"FROM a:1\nENV {assignment}\n") == []


def test_secret_message_names_the_variable_but_never_the_value() -> None:
    [message] = messages("dockerfile.secret-in-env", "FROM a:1\nENV DB_PASSWORD=hunter2\n")
    assert "DB_PASSWORD" in message
    assert "hunter2" not in message


def test_secret_build_arg_without_default() -> None:
    text = "ARG NPM_TOKEN\nFROM a:1\nARG NPM_TOKEN\nARG VERSION\nARG API_KEY=literal\n"
    assert lines("dockerfile.secret-build-arg", text) == [1, 3]


# -- RUN: curl | sh, sudo, verification ----------------------------------------------


@pytest.mark.parametrize("run", [
    "curl -fsSL https://x.io/i.sh | sh",
    "wget -qO- https://x.io/i | sudo bash -s -- --yes",
    "curl -s https://x.io | tee /tmp/log | bash",
    "curl https://x.io/p | python3",
    'bash -c "$(curl -fsSL https://x.io/i.sh)"',
    "eval `curl -s https://x.io/env`",
    "source <(curl -s https://x.io/env)",
])
def test_curl_pipe_shell_variants_fail(run: str) -> None:
    assert lines("dockerfile.curl-pipe-shell", f"FROM a:1\nRUN {run}\n") == [2]


@pytest.mark.parametrize("run", [
    "curl -fsSL https://x.io/i.sh -o i.sh && sha256sum -c sums && sh i.sh",
    "curl -s https://x.io/api | python3 -c 'import json,sys; json.load(sys.stdin)'",
    "curl -s https://x.io/data | bash ./process.sh",
    "curl -s https://x.io/k | gpg --import",
    "echo 'curl https://x | sh'",
    "cat local.sh | sh",
])
def test_curl_pipe_shell_near_misses_pass(run: str) -> None:
    assert lines("dockerfile.curl-pipe-shell", f"FROM a:1\nRUN {run}\n") == []


def test_curl_pipe_in_continuation_reports_first_line_and_names_url_and_shell() -> None:
    text = "FROM a:1\nRUN set -e; \\\n  apk add curl=8.9.0-r0 \\\n  && curl -sL https://get.x.io | sh\n"
    assert lines("dockerfile.curl-pipe-shell", text) == [2]
    assert messages("dockerfile.curl-pipe-shell", text) == [
        'RUN pipes a download of "https://get.x.io" (curl) into "sh"']


def test_curl_pipe_in_onbuild_is_reported() -> None:
    assert lines("dockerfile.curl-pipe-shell", "FROM a:1\nONBUILD RUN curl -s https://x.io | sh\n") == [2]


def test_sudo_as_command_only() -> None:
    assert lines("dockerfile.sudo", "FROM a:1\nRUN make && sudo make install\nRUN apt-get install sudo\n") == [2]


@pytest.mark.parametrize(("run", "fails"), [
    ("curl -k https://x", True), ("curl -sSLk https://x", True), ("curl --insecure https://x", True),
    ("curl -o k https://x", False), ("curl -Hk https://x", False), ("wget --no-check-certificate x", True),
    ("apt-get install -y --allow-unauthenticated x=1", True),
    ("apt-get -o Acquire::AllowInsecureRepositories=true update", True),
    ("yum install -y --setopt=sslverify=false x-1", True), ("yum install -y --setopt=sslverify=1 x-1", False),
    ("GIT_SSL_NO_VERIFY=1 git clone https://x", True), ("git config --global http.sslVerify false", True),
    ("npm config set strict-ssl false", True), ("npm config set strict-ssl true", False),
])
def test_verification_disabled(run: str, fails: bool) -> None:
    assert lines("dockerfile.verification-disabled", f"FROM a:1\nRUN {run}\n") == ([2] if fails else [])


# -- packages ----------------------------------------------------------------------


def test_unpinned_message_lists_only_unpinned_packages() -> None:
    text = "FROM a:1\nRUN apt-get install -y --no-install-recommends -o Dpkg::Options::=--force-confold curl jq=1.6\n"
    assert messages("dockerfile.package-unpinned", text) == [
        "apt-get installs packages without a version pin: curl (pin as name=version)"]


def test_unpinned_inside_heredoc_reports_the_run_line() -> None:
    text = "FROM a:1\nRUN <<EOF\nset -e\npip install --no-cache-dir requests\nEOF\n"
    assert lines("dockerfile.package-unpinned", text) == [2]


def test_pinning_checked_in_builder_stages_too() -> None:
    assert lines("dockerfile.package-unpinned", "FROM a:1 AS build\nRUN apk add --no-cache gcc\nFROM b:1\n") == [2]


def test_cache_only_checked_in_shipped_stages() -> None:
    text = "FROM a:1 AS build\nRUN apk add gcc=1\nFROM a:1 AS base\nRUN apk add curl=1\nFROM base\n"
    assert lines("dockerfile.package-cache", text) == [4]


def test_apt_cache_cleanup_must_be_in_the_same_run() -> None:
    text = ("FROM a:1\nRUN apt-get update && apt-get install -y --no-install-recommends x=1\n"
            "RUN rm -rf /var/lib/apt/lists/*\n")
    assert lines("dockerfile.package-cache", text) == [2]


def test_pip_cache_disabled_by_env_only_from_that_point() -> None:
    text = "FROM a:1\nRUN pip install x==1\nENV PIP_NO_CACHE_DIR=1\nRUN pip install y==1\n"
    assert lines("dockerfile.package-cache", text) == [2]


def test_update_alone_and_with_install() -> None:
    text = "FROM a:1\nRUN apt-get update\nRUN apt-get update && apt-get install -y x\n"
    assert lines("dockerfile.update-alone", text) == [2]


# -- suppressions meet rule output ----------------------------------------------------


def test_rule_findings_line_up_with_suppression_comments() -> None:
    text = ("# cloudward:ignore=dockerfile.missing-healthcheck served behind a mesh probe\n"
            "FROM alpine:3.20\n"
            "# cloudward:ignore=dockerfile.sudo vendor installer\n"
            "RUN apk add --no-cache sudo=1.9.15-r0 \\\n"
            "    && sudo ./install.sh\n"
            "RUN sudo id\n")
    df = parse_dockerfile(text, "Dockerfile")
    sudo = [v.line for v in BY_ID["dockerfile.sudo"].check(df, RuleContext())]
    assert sudo == [4, 6]
    assert [df.ignored("dockerfile.sudo", line) for line in sudo] == ["vendor installer", None]
    [health] = BY_ID["dockerfile.missing-healthcheck"].check(df, RuleContext())
    assert df.ignored("dockerfile.missing-healthcheck", health.line) == "served behind a mesh probe"
