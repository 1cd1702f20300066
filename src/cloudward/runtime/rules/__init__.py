"""Falco rules YAML: load in order, compile one source's rules into fast callables."""

from cloudward.runtime.rules.loader import load_rules
from cloudward.runtime.rules.model import K8S_AUDIT_SOURCE, Priority, RuleDef, RulesFile
from cloudward.runtime.rules.ruleset import CompiledRule, RuleSet, compile_rules, load_ruleset

__all__ = ["K8S_AUDIT_SOURCE", "CompiledRule", "Priority", "RuleDef", "RuleSet", "RulesFile", "compile_rules",
           "load_rules", "load_ruleset"]
