"""A compiled, indexed set of rules for one event source: what ``detect`` runs."""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from cloudward.core.errors import InputError
from cloudward.runtime.rules.compiler import Compiler, Matcher, UnknownField
from cloudward.runtime.rules.condition import And
from cloudward.runtime.rules.field_table import k8s_audit_fields
from cloudward.runtime.rules.index import Requirements, RuleIndex, flatten_and, implied, requirements
from cloudward.runtime.rules.loader import load_rules
from cloudward.runtime.rules.model import K8S_AUDIT_SOURCE, Priority, RuleDef, RulesFile, Where
from cloudward.runtime.rules.output import OutputTemplate, compile_output

log = logging.getLogger(__name__)
_SLUG_PART = re.compile(r"[^a-z0-9]+")


@dataclasses.dataclass(frozen=True, slots=True)
class CompiledRule:
    """A rule ready to run: its definition, its matcher and its output template."""

    definition: RuleDef
    match: Matcher
    output: OutputTemplate
    requirements: Requirements
    slug: str
    #: ``match`` without the checks the rule index already guarantees; only valid for events the index offered
    match_indexed: Matcher | None = None

    @property
    def name(self) -> str:
        return self.definition.name

    @property
    def priority(self) -> Priority:
        return self.definition.priority


@dataclasses.dataclass(frozen=True)
class RuleSet:
    """The enabled rules of one source, in file order, with an index for candidate lookup.

    ``other_sources`` counts rules kept for other sources (``syscall``...): loaded, not run here.
    """

    source: str
    rules: tuple[CompiledRule, ...]
    definitions: RulesFile
    skipped: tuple[str, ...] = ()
    index: RuleIndex[CompiledRule] = dataclasses.field(default_factory=lambda: RuleIndex([]), repr=False)

    @property
    def other_sources(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.definitions.rules:
            if r.source != self.source:
                out[r.source] = out.get(r.source, 0) + 1
        return out

    def candidates(self, ev: dict[str, Any]) -> tuple[CompiledRule, ...]:
        return self.index.candidates(ev)

    def by_name(self, name: str) -> CompiledRule:
        for r in self.rules:
            if r.name == name:
                return r
        raise KeyError(f"no enabled rule named {name!r}")


def compile_rules(rules: RulesFile, source: str = K8S_AUDIT_SOURCE) -> RuleSet:
    """Compile every enabled rule of ``source``; raises ``InputError`` (file:line) on the first bad one."""
    if source != K8S_AUDIT_SOURCE:
        raise InputError(f"no field set for source {source!r}; cloudward evaluates {K8S_AUDIT_SOURCE!r} rules")
    fields = k8s_audit_fields()
    comp = Compiler(rules, fields)
    compiled: list[CompiledRule] = []
    skipped: list[str] = []
    slugs: set[str] = set()
    for rule in rules.rules_for(source):
        if not rule.enabled:
            continue
        try:
            ast = comp.condition_ast(rule)
            match = comp.matcher(ast)
            out = compile_output(rule.output, fields, rule.where, comp.extractor)
        except UnknownField as e:
            if rule.skip_if_unknown_filter:
                log.info("skipping rule %r: %s", rule.name, e.message)
                skipped.append(rule.name)
                continue
            raise
        slug = _slug(rule.name, slugs)
        req = requirements(ast, comp.expand)
        rest = [c for c in flatten_and(ast) if not implied(c, req, comp.expand)]
        fast = comp.matcher(And(tuple(rest))) if rest else (lambda _ev: True)
        compiled.append(CompiledRule(rule, match, out, req, slug, fast))
    index = RuleIndex([(r, r.requirements) for r in compiled])
    return RuleSet(source, tuple(compiled), rules, tuple(skipped), index)


def load_ruleset(paths: Iterable[str | Path | tuple[str, str]], source: str = K8S_AUDIT_SOURCE) -> RuleSet:
    """Load rules files in order (later files override and append) and compile them."""
    return compile_rules(load_rules(paths), source)


def _slug(name: str, taken: set[str]) -> str:
    """A stable readable id for reports: ``Create Privileged Pod`` -> ``k8s-audit.create-privileged-pod``."""
    base = "k8s-audit." + (_SLUG_PART.sub("-", name.lower()).strip("-") or "rule")
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    taken.add(slug)
    return slug


def where_of(rule: CompiledRule) -> Where:
    return rule.definition.where
