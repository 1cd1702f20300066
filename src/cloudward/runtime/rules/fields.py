"""The event fields a condition or an output may name, for the ``k8s_audit`` source.

These are the fields of Falco's k8saudit plugin (``ka.*``) and of its json plugin
(``jevt.*``/``json.*``), with the plugin's meanings: a field the event does not
carry is *not available* (``None``), so every comparison on it is false; JSON
values that are not strings are rendered as compact JSON (``true``, ``201``);
list fields (``IS_LIST``) yield a list of strings. One deliberate difference: for
per-container security flags we skip containers that do not set the flag, where the
plugin gives up on the whole field; documented in docs/detect.md.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

Value = str | list[str] | None
Extractor = Callable[[dict[str, Any]], Value]


@dataclasses.dataclass(frozen=True, slots=True)
class FieldSpec:
    """One field: its name, whether it yields a list, and what its ``[arg]`` means."""

    name: str
    is_list: bool
    arg: str  # "none", "index" (optional numeric index), "key" (required key/argument)
    make: Callable[[str | None], Extractor]
    desc: str = ""


def js(v: Any) -> str:
    """A JSON value as the k8saudit plugin renders it: strings raw, everything else compact JSON."""
    if isinstance(v, str):
        return v
    if v is True:
        return "true"
    if v is False:
        return "false"
    if type(v) is int:
        return str(v)
    return json.dumps(v, separators=(",", ":"), ensure_ascii=False)


def dig(ev: Any, *keys: str) -> Any:
    for k in keys:
        if not isinstance(ev, dict):
            return None
        ev = ev.get(k)
    return ev


def _scalar(*keys: str) -> Callable[[str | None], Extractor]:
    def make(_arg: str | None) -> Extractor:
        if len(keys) == 1:
            k0 = keys[0]

            def one(ev: dict[str, Any]) -> Value:
                v = ev.get(k0)
                return None if v is None else (v if isinstance(v, str) else js(v))
            return one
        if len(keys) == 2:
            k0, k1 = keys

            def two(ev: dict[str, Any]) -> Value:
                d = ev.get(k0)
                if not isinstance(d, dict):
                    return None
                v = d.get(k1)
                return None if v is None else (v if isinstance(v, str) else js(v))
            return two

        def many(ev: dict[str, Any]) -> Value:
            v = dig(ev, *keys)
            return None if v is None else js(v)
        return many
    return make


def _array(*keys: str) -> Callable[[str | None], Extractor]:
    """A JSON array at ``keys`` as a list of strings (not available when missing or not an array)."""
    def make(arg: str | None) -> Extractor:
        idx = _index(arg)

        def get(ev: dict[str, Any]) -> Value:
            v = dig(ev, *keys)
            if not isinstance(v, list):
                return None
            return _pick([js(x) for x in v if x is not None], idx)
        return get
    return make


def _index(arg: str | None) -> int | None:
    return int(arg) if arg is not None and arg.isdigit() else None


def _pick(values: list[str], idx: int | None) -> list[str] | None:
    if idx is None:
        return values
    return [values[idx]] if idx < len(values) else None


def _containers(kind: str, *path: str, repo: bool = False) -> Callable[[str | None], Extractor]:
    """Per-container values of ``requestObject.spec.<kind>[*].<path>``, skipping containers without it."""
    def make(arg: str | None) -> Extractor:
        idx = _index(arg)

        def get(ev: dict[str, Any]) -> Value:
            cs = dig(ev, "requestObject", "spec", kind)
            if not isinstance(cs, list):
                return None
            if idx is not None:
                if idx >= len(cs):
                    return None
                cs = [cs[idx]]
            out: list[str] = []
            for c in cs:
                v = dig(c, *path)
                if v is None:
                    continue
                if isinstance(v, list):
                    out.extend(js(x) for x in v)
                else:
                    s = js(v)
                    out.append(image_repository(s) if repo else s)
            return out
        return get
    return make


def image_repository(image: str) -> str:
    """``registry:5000/ns/app:1.2@sha256:..`` -> ``registry`` ... as the plugin does it: cut at ':' then '@'."""
    return image.split(":", 1)[0].split("@", 1)[0]


def _effective(kind: str, key: str) -> Callable[[str | None], Extractor]:
    def make(arg: str | None) -> Extractor:
        idx = _index(arg)

        def get(ev: dict[str, Any]) -> Value:
            spec = dig(ev, "requestObject", "spec")
            cs = dig(spec, kind)
            if not isinstance(cs, list):
                return None
            pod_level = dig(spec, "securityContext", key)
            default = "0" if pod_level is None else js(pod_level)
            vals = [js(v) if (v := dig(c, "securityContext", key)) is not None else default for c in cs]
            return _pick(vals, idx)
        return get
    return make


def _host_ports(kind: str) -> Callable[[str | None], Extractor]:
    def make(arg: str | None) -> Extractor:
        idx = _index(arg)

        def get(ev: dict[str, Any]) -> Value:
            cs = dig(ev, "requestObject", "spec", kind)
            if not isinstance(cs, list):
                return None
            if idx is not None:
                cs = cs[idx:idx + 1]
            out: list[str] = []
            for c in cs:
                for port in dig(c, "ports") or ():
                    v = dig(port, "hostPort")
                    if v is None:
                        v = dig(port, "containerPort")
                    if v is not None:
                        out.append(js(v))
            return out
        return get
    return make


def _volumes(*path: str) -> Callable[[str | None], Extractor]:
    def make(arg: str | None) -> Extractor:
        idx = _index(arg)

        def get(ev: dict[str, Any]) -> Value:
            vs = dig(ev, "requestObject", "spec", "volumes")
            if not isinstance(vs, list):
                return None
            return _pick([js(v) for vol in vs if (v := dig(vol, *path)) is not None], idx)
        return get
    return make


def _volume_types(arg: str | None) -> Extractor:
    idx = _index(arg)

    def get(ev: dict[str, Any]) -> Value:
        vs = dig(ev, "requestObject", "spec", "volumes")
        if not isinstance(vs, list):
            return None
        return _pick([k for vol in vs if isinstance(vol, dict) for k in vol if k != "name"], idx)
    return get


def _volume_hostpath(arg: str | None) -> Extractor:
    prefix = arg or ""

    def get(ev: dict[str, Any]) -> Value:
        paths = _volumes("hostPath", "path")(None)(ev)
        if paths is None:
            return None
        if prefix.endswith("*"):
            return "true" if any(p.startswith(prefix[:-1]) for p in paths) else "false"
        return "true" if prefix in paths else "false"
    return get


def _rules_field(key: str) -> Callable[[str | None], Extractor]:
    def make(arg: str | None) -> Extractor:
        idx = _index(arg)

        def get(ev: dict[str, Any]) -> Value:
            rules = dig(ev, "requestObject", "rules")
            if not isinstance(rules, list):
                return None
            if idx is not None:
                rules = rules[idx:idx + 1]
            out: list[str] = []
            for r in rules:
                v = dig(r, key)
                if isinstance(v, list):
                    out.extend(js(x) for x in v if x is not None)
            return out
        return get
    return make


def _subjects(kind: str, with_ns: bool = False) -> Callable[[str | None], Extractor]:
    def make(_arg: str | None) -> Extractor:
        def get(ev: dict[str, Any]) -> Value:
            subs = dig(ev, "requestObject", "subjects")
            if not isinstance(subs, list):
                return None
            out = []
            for s in subs:
                if dig(s, "kind") == kind and isinstance(name := dig(s, "name"), str):
                    out.append(f"{dig(s, 'namespace') or ''}:{name}" if with_ns else name)
            return out
        return get
    return make


def _first_container(key: str, repo: bool = False) -> Callable[[str | None], Extractor]:
    def make(_arg: str | None) -> Extractor:
        inner = _containers("containers", key, repo=repo)(None)

        def get(ev: dict[str, Any]) -> Value:
            vals = inner(ev)
            return vals[0] if vals else None
        return get
    return make


def _any_privileged(_arg: str | None) -> Extractor:
    def get(ev: dict[str, Any]) -> Value:
        cs = dig(ev, "requestObject", "spec", "containers")
        if not isinstance(cs, list):
            return None
        return "true" if any(dig(c, "securityContext", "privileged") is True for c in cs) else "false"
    return get


def _uri_param(arg: str | None) -> Extractor:
    key = arg or ""

    def get(ev: dict[str, Any]) -> Value:
        uri = ev.get("requestURI")
        if not isinstance(uri, str):
            return None
        vals = parse_qs(urlsplit(uri).query, keep_blank_values=True).get(key)
        return vals[0] if vals else None
    return get


def _target_pod_name(_arg: str | None) -> Extractor:
    def get(ev: dict[str, Any]) -> Value:
        ref = ev.get("objectRef")
        if isinstance(ref, dict) and ref.get("resource") == "pods":
            v = ref.get("name")
            return v if isinstance(v, str) else None
        return None
    return get


def _json_value(arg: str | None) -> Extractor:
    """``jevt.value[/a/b/0]``: an RFC 6901 JSON pointer into the whole event."""
    ptr = arg or ""
    steps = [s.replace("~1", "/").replace("~0", "~") for s in ptr.split("/")[1:]] if ptr else []

    def get(ev: dict[str, Any]) -> Value:
        cur: Any = ev
        for s in steps:
            if isinstance(cur, dict):
                if s not in cur:
                    return None
                cur = cur[s]
            elif isinstance(cur, list) and s.isdigit() and int(s) < len(cur):
                cur = cur[int(s)]
            else:
                return None
        return None if cur is None else js(cur)
    return get


def _json_obj(_arg: str | None) -> Extractor:
    return js


def event_time(ev: dict[str, Any]) -> dt.datetime | None:
    """When the event happened: ``stageTimestamp``, else ``requestReceivedTimestamp``, else ``timestamp``."""
    for key in ("stageTimestamp", "requestReceivedTimestamp", "timestamp"):
        v = ev.get(key)
        if isinstance(v, str) and v:
            try:
                t = dt.datetime.fromisoformat(v.replace("Z", "+00:00"))
            except ValueError:
                continue
            return t if t.tzinfo else t.replace(tzinfo=dt.UTC)
    return None


def _rawtime(_arg: str | None) -> Extractor:
    def get(ev: dict[str, Any]) -> Value:
        t = event_time(ev)
        if t is None:
            return None
        return str((t - _EPOCH) // dt.timedelta(microseconds=1) * 1000)
    return get


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
