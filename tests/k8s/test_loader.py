"""Loading manifests: objects, positions, Lists, skips, and hostile input."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from cloudward.core.errors import InputError
from cloudward.k8s.loader import MAX_DEPTH, Skipped, iter_documents, load_objects
from cloudward.k8s.object import K8sObject

STREAM = """\
# a comment before the first document
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: prod
spec:
  template:
    spec:
      containers:
        - name: app
          image: nginx:1.27
          securityContext:
            privileged: true
---
apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: Service
    metadata:
      name: svc
  - apiVersion: v1
    kind: ConfigMap
    metadata:
      name: cm
---
settings:
  debug: true
---
just a string
---
"""


def test_multi_document_stream_yields_objects_and_skips_in_order() -> None:
    items = list(iter_documents(STREAM, "s.yaml"))
    kinds = [i.kind if isinstance(i, K8sObject) else type(i).__name__ for i in items]
    assert kinds == ["Deployment", "Service", "ConfigMap", "Skipped", "Skipped"]
    skipped = [i for i in items if isinstance(i, Skipped)]
    assert skipped[0].line == 28 and "no apiVersion/kind" in skipped[0].reason
    assert skipped[1].line == 31 and "scalar" in skipped[1].reason


def test_field_positions_point_at_the_key() -> None:
    web = load_objects(STREAM, "s.yaml")[0]
    assert web.line == 2
    path = ("spec", "template", "spec", "containers", 0, "securityContext", "privileged")
    assert web.locate(path) == (14, 13)
    # a missing field falls back to its nearest existing ancestor (the container item)
    assert web.locate(("spec", "template", "spec", "containers", 0, "resources", "limits")) == (11, 11)


def test_list_members_keep_their_path_and_line() -> None:
    svc = load_objects(STREAM, "s.yaml")[1]
    assert svc.base == ("items", 0)
    assert svc.line == 19
    assert svc.full_path(("metadata", "name")) == ("items", 0, "metadata", "name")
    assert svc.locate(("metadata", "name")) == (22, 7)


def test_syntax_error_reports_line_and_column_after_good_documents() -> None:
    text = "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: b\n"
    items = list(iter_documents(text, "bad.yaml"))
    assert isinstance(items[0], K8sObject) and items[0].name == "a"
    err = items[-1]
    assert isinstance(err, InputError)
    assert err.file == "bad.yaml" and err.line == 8 and err.column is not None
    assert "invalid YAML" in err.message


def test_missing_kind_with_api_version_is_an_input_error() -> None:
    (err,) = list(iter_documents("apiVersion: v1\nmetadata: {name: x}\n", "k.yaml"))
    assert isinstance(err, InputError) and "no valid 'kind'" in err.message and err.line == 1


def test_list_of_junk_is_skipped_not_fatal() -> None:
    (skip,) = list(iter_documents("- 1\n- two\n- [3]\n", "junk.yaml"))
    assert isinstance(skip, Skipped) and "a list" in skip.reason


def test_billion_laughs_is_refused_quickly() -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 9):
        prev, cur = chr(96 + i), chr(97 + i)
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: lol}\ndata:\n" + "\n".join("  " + x for x in lines)
    (err,) = list(iter_documents(text, "bomb.yaml"))
    assert isinstance(err, InputError) and "alias" in err.message


def test_small_legitimate_aliases_are_fine() -> None:
    text = ("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  labels: &l {app: x}\n"
            "spec:\n  containers: [{name: c, image: i}]\n  nodeSelector: *l\n")
    (obj,) = load_objects(text, "a.yaml")
    assert obj.data["spec"]["nodeSelector"] == {"app": "x"}


@pytest.mark.parametrize("text", [
    "a: " + "[" * 60000 + "]" * 60000,
    "a: " + "{b: " * 60000 + "}" * 60000,
    "".join("  " * i + "k:\n" for i in range(MAX_DEPTH + 5)),
])
def test_deep_nesting_is_refused_instead_of_crashing(text: str) -> None:
    items = list(iter_documents(text, "deep.yaml"))
    assert isinstance(items[-1], InputError)
    assert "nested deeper" in items[-1].message


def test_json_manifest_with_tabs_loads_with_positions() -> None:
    text = '{\n\t"apiVersion": "v1",\n\t"kind": "Pod",\n\t"metadata": {"name": "j"},\n\t"spec": {"hostPID": true}\n}\n'
    (obj,) = load_objects(text, "p.json")
    assert obj.kind == "Pod" and obj.locate(("spec", "hostPID"))[0] == 5


def test_invalid_json_reports_json_position() -> None:
    items = list(iter_documents('{"apiVersion": "v1",\n "kind": ["Pod"}', "x.json", json_fallback=True))
    assert isinstance(items[-1], InputError) and items[-1].line == 2


def test_yaml_tags_are_never_constructed(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    text = (f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: x}}\n"
            f"data:\n  a: !!python/object/apply:os.system ['touch {marker}']\n  b: !Ref Something\n")
    (obj,) = load_objects(text, "e.yaml")
    assert obj.data["data"] == {"a": [f"touch {marker}"], "b": "Something"}
    assert not marker.exists()


def test_merge_keys_and_scalar_types_match_safe_load() -> None:
    text = ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: m}\nbase: &b {a: 1, b: 2}\nother: &o {b: 3, c: 4}\n"
            "x:\n  <<: [*b, *o]\n  c: 9\nt: 2001-12-14\nn: ~\nf: 1.5\ni: 0x1F\nbo: yes\n")
    (obj,) = load_objects(text, "m.yaml")
    assert obj.data == yaml.safe_load(text)
    assert obj.data["x"] == {"a": 1, "b": 2, "c": 9}


def test_recursive_alias_is_refused() -> None:
    (err,) = list(iter_documents("apiVersion: v1\nkind: ConfigMap\nx: &a [*a]\n", "c.yaml"))
    assert isinstance(err, InputError) and "recursive" in err.message
