"""The rule language: loading with file:line errors, operators, lists, macros, append/override, exceptions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cloudward.core.errors import InputError
from cloudward.runtime import detect, load_ruleset
from cloudward.runtime.events.builder import audit_event, pod

HEAD = "- macro: kevt\n  condition: ka.stage = ResponseComplete\n"


def rules(text: str) -> Any:
    return load_ruleset([("rules.yaml", text)])


def rule(cond: str, output: str = "hit user=%ka.user.name") -> Any:
    return rules(f"{HEAD}- rule: R\n  desc: d\n  condition: {cond}\n  output: {output}\n  priority: WARNING\n"
                 "  source: k8s_audit\n")


def fires(rs: Any, ev: dict[str, Any]) -> list[str]:
    return [a.rule for a in detect([ev], rs)]


@pytest.mark.parametrize(("cond", "hit", "miss"), [
    ("ka.verb = create", {"verb": "create"}, {"verb": "get"}),
    ("ka.verb != get", {"verb": "create"}, {"verb": "get"}),
    ("ka.user.name startswith \"system:\"", {"user": "system:x"}, {"user": "sys"}),
    ("ka.user.name endswith admin", {"user": "kube-admin"}, {"user": "admins"}),
    ("ka.user.name contains adm", {"user": "xadmx"}, {"user": "abc"}),
    ("ka.user.name icontains ADM", {"user": "xadmx"}, {"user": "abc"}),
    ("ka.user.name glob \"sys*:a?c\"", {"user": "system:abc"}, {"user": "system:abcd"}),
    ("ka.uri pmatch (/api/v1/namespaces)", {"resource": "pods"}, {"resource": "pods", "namespace": None}),
    ("ka.response.code >= 400", {"code": 403}, {"code": 201}),
    ("ka.response.code < 300", {"code": 201}, {"code": 403}),
    ("ka.verb in (get, list)", {"verb": "list"}, {"verb": "watch"}),
    ("ka.user.groups intersects (admins)", {"groups": ["a", "admins"]}, {"groups": ["a"]}),
    ("ka.user.groups in (a, b)", {"groups": ["a", "b"]}, {"groups": ["a", "c"]}),
    ("ka.impuser.name exists", {"impersonated_user": "x"}, {}),
    ("not ka.impuser.name exists", {}, {"impersonated_user": "x"}),
    ("ka.user.name regex \"bo+b\"", {"user": "booob"}, {"user": "boob2"}),
    ("tolower(ka.user.name) = alice", {"user": "ALICE"}, {"user": "bob"}),
    ("(ka.verb = get or ka.verb = list) and not ka.user.name = bob", {"verb": "get"}, {"verb": "get", "user": "bob"}),
    ("jevt.value[/objectRef/resource] = secrets", {"resource": "secrets"}, {"resource": "pods"}),
    ("ka.uri.param[watch] = true", {"query": "watch=true"}, {"query": "watch=false"}),
])
def test_operators(cond: str, hit: dict[str, Any], miss: dict[str, Any]) -> None:
    rs = rule(f"kevt and {cond}")
    base = {"verb": "get", "resource": "pods"}
    assert fires(rs, audit_event(**(base | hit))) == ["R"]
    assert fires(rs, audit_event(**(base | miss))) == []


def test_missing_field_makes_every_comparison_false() -> None:
    rs = rule("kevt and ka.target.subresource != exec")
    assert fires(rs, audit_event("get", "pods")) == []  # no subresource: != is false too, as in Falco


def test_lists_expand_recursively_and_macros_inline() -> None:
    rs = rules(HEAD + "- list: a\n  items: [alice]\n- list: people\n  items: [a, bob]\n"
               "- macro: person\n  condition: ka.user.name in (people)\n"
               "- rule: R\n  desc: d\n  condition: kevt and person\n  output: o\n  priority: INFO\n"
               "  source: k8s_audit\n")
    assert fires(rs, audit_event("get", "pods", user="alice")) == ["R"]
    assert fires(rs, audit_event("get", "pods", user="bob")) == ["R"]
    assert fires(rs, audit_event("get", "pods", user="carol")) == []


def test_append_override_and_enabled_across_files(tmp_path: Path) -> None:
    base = tmp_path / "base.yaml"
    base.write_text(HEAD + "- list: users\n  items: [alice]\n"
                    "- rule: R\n  desc: d\n  condition: kevt and ka.user.name in (users)\n  output: o\n"
                    "  priority: INFO\n  source: k8s_audit\n"
                    "- rule: Quiet\n  desc: d\n  condition: kevt\n  output: o\n  priority: INFO\n  source: k8s_audit\n")
    local = tmp_path / "local.yaml"
    local.write_text("- list: users\n  items: [bob]\n  override:\n    items: append\n"
                     "- rule: R\n  condition: and ka.verb = get\n  append: true\n"
                     "- rule: R\n  priority: CRITICAL\n  override:\n    priority: replace\n"
                     "- rule: Quiet\n  enabled: false\n")
    rs = load_ruleset([base, local])
    assert [r.name for r in rs.rules] == ["R"]
    assert fires(rs, audit_event("get", "pods", user="bob")) == ["R"]
    assert fires(rs, audit_event("list", "pods", user="bob")) == []
    assert rs.rules[0].priority.value == "Critical"


def test_exceptions_suppress_matching_events() -> None:
    rs = rules(HEAD + "- rule: R\n  desc: d\n  condition: kevt and ka.verb = get\n  output: o\n  priority: INFO\n"
               "  source: k8s_audit\n  exceptions:\n"
               "    - name: trusted\n      fields: [ka.user.name, ka.target.namespace]\n      comps: [\"=\", in]\n"
               "      values:\n        - [ops, [kube-system, monitoring]]\n"
               "    - name: bots\n      fields: ka.user.name\n      values: [ci-bot]\n")
    assert fires(rs, audit_event("get", "pods", user="ops", namespace="monitoring")) == []
    assert fires(rs, audit_event("get", "pods", user="ops", namespace="shop")) == ["R"]
    assert fires(rs, audit_event("get", "pods", user="ci-bot")) == []


def test_output_template_renders_missing_and_list_fields() -> None:
    rs = rule("kevt", "u=%ka.user.name g=%ka.user.groups s=%ka.target.subresource img=%ka.req.pod.containers.image.")
    [a] = detect([audit_event("create", "pods", groups=["g1", "g2"], request_object=pod({"image": "a:1"}))], rs)
    assert a.output == "u=alice g=(g1,g2) s=<NA> img=(a:1)."


@pytest.mark.parametrize(("text", "line", "needle"), [
    (HEAD + "- rule: R\n  desc: d\n  condition: kevt and ka.user.nme = x\n  output: o\n  priority: INFO\n"
     "  source: k8s_audit\n", 5, "unknown field 'ka.user.nme'"),
    (HEAD + "- rule: R\n  desc: d\n  condition: kevt and (ka.verb = x\n  output: o\n  priority: INFO\n"
     "  source: k8s_audit\n", 5, "missing ')'"),
    (HEAD + "- rule: R\n  desc: d\n  condition: kevt and nomacro\n  output: o\n  priority: INFO\n"
     "  source: k8s_audit\n", 5, "undefined macro 'nomacro'"),
    (HEAD + "- rule: R\n  desc: d\n  condition: kevt\n  output: o %ka.bogus\n  priority: INFO\n"
     "  source: k8s_audit\n", 3, "unknown field %ka.bogus"),
    (HEAD + "- rule: R\n  desc: d\n  condition: kevt\n  output: o\n  priority: LOUD\n  source: k8s_audit\n",
     7, "unknown priority 'LOUD'"),
    (HEAD + "- rule: R\n  desc: d\n  conditon: kevt\n  output: o\n  priority: INFO\n", 5, "unknown key 'conditon'"),
    (HEAD + "- rule: R\n  desc: d\n  condition: kevt and ka.user.groups = x\n  output: o\n  priority: INFO\n"
     "  source: k8s_audit\n", 5, "supports only 'exists', 'in' and 'intersects'"),
    ("- rule: R\n  condition: and x\n  append: true\n", 1, "not defined earlier"),
    ("- list: x\n  items: [a\n", 3, "invalid YAML"),
    ("rule: R\n", 1, "a YAML list"),
])
def test_invalid_rules_fail_at_load_with_file_and_line(text: str, line: int, needle: str) -> None:
    with pytest.raises(InputError) as e:
        rules(text)
    assert e.value.file == "rules.yaml"
    assert e.value.line == line, str(e.value)
    assert needle in str(e.value)


def test_other_source_rules_are_kept_without_checking_their_fields() -> None:
    rs = rules("- rule: S\n  desc: d\n  condition: proc.name = bash and evt.type = execve\n  output: o %proc.name\n"
               "  priority: WARNING\n")
    assert rs.rules == () and rs.other_sources == {"syscall": 1}


def test_skip_if_unknown_filter_skips_instead_of_failing() -> None:
    rs = rules(HEAD + "- rule: R\n  desc: d\n  condition: kevt and ka.future.field = 1\n  output: o\n"
               "  priority: INFO\n  source: k8s_audit\n  skip-if-unknown-filter: true\n")
    assert rs.rules == () and rs.skipped == ("R",)


def test_index_only_offers_rules_that_can_match() -> None:
    rs = rules(HEAD + "- rule: Exec\n  desc: d\n  condition: kevt and ka.verb = create and ka.target.subresource = exec"
               "\n  output: o\n  priority: INFO\n  source: k8s_audit\n"
               "- rule: Any\n  desc: d\n  condition: kevt and ka.user.name = x\n  output: o\n  priority: INFO\n"
               "  source: k8s_audit\n")
    names = [r.name for r in rs.candidates(audit_event("get", "secrets"))]
    assert names == ["Any"]
    assert [r.name for r in rs.candidates(audit_event("create", "pods", subresource="exec"))] == ["Exec", "Any"]


@pytest.mark.parametrize(("cond", "hit", "miss"), [
    # Falco's val(): the right side is another field of the same event
    ("ka.impuser.name = val(ka.user.name)", {"impersonated_user": "alice"}, {"impersonated_user": "bob"}),
    ("ka.impuser.name != val(ka.user.name)", {"impersonated_user": "bob"}, {"impersonated_user": "alice"}),
    ("ka.target.name startswith val(ka.target.namespace)", {"name": "default-x"}, {"name": "x-default"}),
    ("ka.response.code > val(jevt.value[/objectRef/name])", {"code": 403, "name": "200"},
     {"code": 403, "name": "1000"}),  # both integers: compared as numbers, not as strings
    ("ka.user.name = val( ka.uri.param[as] )", {"query": "as=alice"}, {"query": "as=bob"}),
])
def test_val_compares_two_fields_of_the_event(cond: str, hit: dict[str, Any], miss: dict[str, Any]) -> None:
    rs = rule(f"kevt and {cond}")
    base = {"verb": "get", "resource": "pods", "name": "web"}
    assert fires(rs, audit_event(**(base | hit))) == ["R"]
    assert fires(rs, audit_event(**(base | miss))) == []
    assert fires(rs, audit_event(**(base | miss | {"user": "nobody", "impersonated_user": None}))) == []


def test_val_on_a_missing_field_is_false_and_bad_uses_fail_at_load() -> None:
    rs = rule("kevt and ka.user.name != val(ka.impuser.name)")
    assert fires(rs, audit_event("get", "pods")) == []  # impersonated user not available: false, as in Falco
    with pytest.raises(InputError, match=r"unknown field 'ka\.nope'"):
        rule("kevt and ka.user.name = val(ka.nope)")
    with pytest.raises(InputError, match=r"val\(\) compares one scalar field"):
        rule("kevt and ka.user.name = val(ka.user.groups)")
    with pytest.raises(InputError, match=r"missing '\)' after val\(ka.verb"):
        rule("kevt and ka.user.name = val(ka.verb")
