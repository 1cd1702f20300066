"""The ``detect:`` section of ``.cloudward.yaml``: alert exceptions and threshold (burst) rules.

Why a section of its own and not the shared top-level ``exceptions:`` list: scan
exceptions select manifests (kind, path, container), while an audit alert is
selected by who did what (user, verb, resource, user agent). The section is parsed
here, with the config file's name and line numbers in every error, from the YAML
node ``Config.section("detect")`` hands over.

```yaml
detect:
  exceptions:
    - rule: "Attach/Exec Pod"          # rule name or slug, globs allowed; or rules: [...]
      user: "system:serviceaccount:ci:*"
      namespace: "dev-*"
      reason: CI debugs its own pods
      expires: 2026-12-31              # after this date: a warning, and it stops suppressing
  thresholds:                          # replaces the built-in list when present ([] turns bursts off)
    - rule: Forbidden API Request      # counts alerts of this rule ...
      count: 10                        # ... N of them for one key ...
      window: 60                       # ... within this many seconds of event time
      by: [user]
```
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import fnmatch
import re
from collections.abc import Callable
from typing import Any

import yaml

from cloudward.core.config import NodeParser
from cloudward.runtime.rules.fields import dig
from cloudward.runtime.rules.model import Priority

#: selector key -> where its value sits in an audit event (a list value matches when any item does)
SELECTORS: dict[str, tuple[str, ...]] = {
    "user": ("user", "username"),
    "group": ("user", "groups"),
    "namespace": ("objectRef", "namespace"),
    "resource": ("objectRef", "resource"),
    "subresource": ("objectRef", "subresource"),
    "name": ("objectRef", "name"),
    "verb": ("verb",),
    "user_agent": ("userAgent",),
    "source_ip": ("sourceIPs",),
}
#: keys a threshold may group by (the same values de-duplication uses)
BURST_KEYS = ("user", "namespace", "resource", "name", "verb", "source_ip")
_SECTION_KEYS = {"exceptions", "thresholds"}
_EXCEPTION_KEYS = {"rule", "rules", "reason", "expires", *SELECTORS}
_THRESHOLD_KEYS = {"rule", "name", "count", "window", "by", "distinct", "priority", "tags"}
_SLUG = re.compile(r"[^a-z0-9]+")


@dataclasses.dataclass(frozen=True, slots=True)
class AlertException:
    """An accepted alert: rules (names or slugs, globs) + event selectors (globs) + reason + expiry."""

    rules: tuple[str, ...]
    reason: str
    selectors: tuple[tuple[str, str], ...] = ()
    expires: dt.date | None = None
    origin: str = ""  # file:line, for messages and reports

    def matches(self, rule: str, rule_id: str, event: dict[str, Any]) -> bool:
        return self.compile()(rule, rule_id, event)

    def compile(self) -> Callable[[str, str, dict[str, Any]], bool]:
        """A matcher with every glob compiled once (a run checks each alert against every exception)."""
        rule_rx = re.compile("|".join(f"(?:{fnmatch.translate(r)})" for r in self.rules), re.DOTALL)
        checks = [(SELECTORS[k], re.compile(fnmatch.translate(p), re.DOTALL)) for k, p in self.selectors]

        def match(rule: str, rule_id: str, event: dict[str, Any]) -> bool:
            if rule_rx.match(rule) is None and (not rule_id or rule_rx.match(rule_id) is None):
                return False
            for path, rx in checks:
                value = dig(event, *path)
                values = value if isinstance(value, list) else [value]
                if not any(rx.match("" if v is None else str(v)) for v in values):
                    return False
            return True
        return match

    def expired(self, today: dt.date) -> bool:
        return self.expires is not None and today > self.expires


@dataclasses.dataclass(frozen=True, slots=True)
class Threshold:
    """A rule evaluated across events: ``count`` alerts of ``rules`` for one key within ``window`` seconds.

    With ``distinct``, what is counted is the distinct values of that key among those
    alerts (one user listing secrets in five namespaces, not five times in one).
    """

    rules: tuple[str, ...]
    name: str
    count: int
    window: float
    by: tuple[str, ...] = ("user",)
    priority: Priority = Priority.WARNING
    tags: tuple[str, ...] = ()
    origin: str = ""
    distinct: str | None = None

    @property
    def rule(self) -> str:
        """The counted rules as one text, for messages and reports."""
        return " | ".join(self.rules)

    @property
    def slug(self) -> str:
        """``Burst of Forbidden API Requests`` -> ``k8s-audit.burst-of-forbidden-api-requests`` (like rule slugs)."""
        return "k8s-audit." + (_SLUG.sub("-", self.name.lower()).strip("-") or "threshold")


#: The built-in thresholds: bursts of 403s from one user are permission discovery (ATT&CK T1613, T1087,
#: T1069); one person listing the secrets of namespace after namespace is collecting credentials (T1552.007).
BUILTIN_THRESHOLDS = (
    Threshold(rules=("Forbidden API Request",), name="Burst of Forbidden API Requests", count=10, window=60.0,
              priority=Priority.WARNING,
              tags=("k8s", "mitre_discovery", "T1613", "T1087", "T1069"), origin="<builtin>"),
    Threshold(rules=("Secrets Listed In Namespace By Human",), name="Secrets Listed In Many Namespaces", count=5,
              window=300.0, distinct="namespace", priority=Priority.WARNING,
              tags=("k8s", "mitre_credential_access", "mitre_discovery", "T1552.007", "T1613"), origin="<builtin>"),
)


@dataclasses.dataclass(frozen=True, slots=True)
class DetectPolicy:
    """What ``.cloudward.yaml`` says about detection; the default is no exceptions and the built-in thresholds."""

    exceptions: tuple[AlertException, ...] = ()
    thresholds: tuple[Threshold, ...] = BUILTIN_THRESHOLDS
    source: str | None = None


def parse_detect_section(node: yaml.Node | None, source: str) -> DetectPolicy:
    """Validate the ``detect:`` node; every error names the file, line and field and how to fix it."""
    if node is None or (isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null"):
        return DetectPolicy(source=source)
    p = _Parser(source)
    top = p.mapping(node, "detect", _SECTION_KEYS)
    kw: dict[str, Any] = {"source": source}
    if "exceptions" in top:
        kw["exceptions"] = tuple(p.alert_exception(n, i) for i, n in
                                 enumerate(p.sequence(top["exceptions"], "detect.exceptions")))
    if "thresholds" in top:
        kw["thresholds"] = tuple(p.threshold(n, i) for i, n in
                                 enumerate(p.sequence(top["thresholds"], "detect.thresholds")))
        names = [t.name for t in kw["thresholds"]]
        dup = next((n for n in names if names.count(n) > 1), None)
        if dup is not None:
            raise p.fail(top["thresholds"], f"detect.thresholds: two thresholds are named {dup!r}; give each a "
                         "distinct 'name'")
    return DetectPolicy(**kw)


class _Parser(NodeParser):
    """The shared config node parser, plus the ``detect`` section's own entries."""

    def where(self, node: yaml.Node) -> str:
        return f"{self.source}:{node.start_mark.line + 1}"

    def string(self, node: yaml.Node, where: str, *, nonempty: bool = True) -> str:
        return super().string(node, where, nonempty=nonempty)

    def positive(self, node: yaml.Node, where: str, *, whole: bool) -> float:
        ok = isinstance(node, yaml.ScalarNode) and node.tag in (
            ("tag:yaml.org,2002:int",) if whole else ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float"))
        value = float(node.value) if ok else 0.0
        if not ok or value <= 0:
            raise self.fail(node, f"{where} must be a positive {'whole ' if whole else ''}number")
        return value

    def alert_exception(self, node: yaml.Node, index: int) -> AlertException:
        where = f"detect.exceptions[{index}]"
        m = self.mapping(node, where, _EXCEPTION_KEYS)
        rules = self.strings(m["rule"], f"{where}.rule") if "rule" in m else []
        rules += self.strings(m["rules"], f"{where}.rules") if "rules" in m else []
        if not rules:
            raise self.fail(node, f"{where} needs 'rule' (a rule name or slug, globs allowed, e.g. 'Attach/Exec Pod')")
        if "reason" not in m:
            raise self.fail(node, f"{where} needs a 'reason' saying why these alerts are accepted")
        reason = self.string(m["reason"], f"{where}.reason")
        selectors = tuple((k, self.string(m[k], f"{where}.{k}")) for k in SELECTORS if k in m)
        expires = None
        if "expires" in m:
            text = self.string(m["expires"], f"{where}.expires")
            try:
                expires = dt.date.fromisoformat(text)
            except ValueError:
                raise self.fail(m["expires"], f"{where}.expires: {text!r} is not a date; write YYYY-MM-DD") from None
        return AlertException(tuple(rules), reason, selectors, expires, self.where(node))

    def threshold(self, node: yaml.Node, index: int) -> Threshold:
        where = f"detect.thresholds[{index}]"
        m = self.mapping(node, where, _THRESHOLD_KEYS)
        for key in ("rule", "count", "window"):
            if key not in m:
                raise self.fail(node, f"{where} needs '{key}' (rule: the rule (or list of rules) whose alerts are "
                                "counted, count: how many, window: within how many seconds)")
        rules = tuple(dict.fromkeys(self.strings(m["rule"], f"{where}.rule")))
        if not rules or not all(r.strip() for r in rules):
            raise self.fail(m["rule"], f"{where}.rule: name at least one rule, as written after 'rule:' in the rules")
        by = tuple(self.strings(m["by"], f"{where}.by")) if "by" in m else ("user",)
        bad = next((k for k in by if k not in BURST_KEYS), None)
        if bad is not None:
            raise self.fail(m["by"], f"{where}.by: unknown key {bad!r}; use: {', '.join(BURST_KEYS)}")
        distinct = None
        if "distinct" in m:
            distinct = self.choice(m["distinct"], f"{where}.distinct", list(BURST_KEYS))
            if distinct in by:
                raise self.fail(m["distinct"], f"{where}.distinct: {distinct!r} is also in 'by', so every group has "
                                "one value of it; count distinct values of a key you do not group by")
        priority = Priority.WARNING
        if "priority" in m:
            try:
                priority = Priority.parse(self.string(m["priority"], f"{where}.priority"))
            except ValueError as e:
                raise self.fail(m["priority"], f"{where}.priority: {e}") from None
        default_name = f"Burst of {' / '.join(rules)}" if distinct is None else \
            f"{' / '.join(rules)} Across Many {distinct}s"
        return Threshold(rules=rules, name=self.string(m["name"], f"{where}.name") if "name" in m else default_name,
                         count=int(self.positive(m["count"], f"{where}.count", whole=True)),
                         window=self.positive(m["window"], f"{where}.window", whole=False), by=by, priority=priority,
                         tags=tuple(self.strings(m["tags"], f"{where}.tags")) if "tags" in m else (),
                         origin=self.where(node), distinct=distinct)


__all__ = ["BUILTIN_THRESHOLDS", "SELECTORS", "AlertException", "DetectPolicy", "Threshold", "parse_detect_section"]
