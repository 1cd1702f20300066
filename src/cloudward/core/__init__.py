"""The model shared by every stage: findings, severities, rules, errors."""

from cloudward.core.errors import CloudwardError, ConfigError, InputError, OperationalError
from cloudward.core.jsonpath import JsonPath, format_path
from cloudward.core.model import (
    Controls,
    Finding,
    Location,
    Problem,
    ProblemKind,
    PSSLevel,
    ResourceRef,
    Suppression,
    SuppressionSource,
    TextFile,
    Violation,
)
from cloudward.core.rules import PSSVersion, Rule, RuleContext, RuleRegistry, Target
from cloudward.core.severity import Severity

__all__ = [
    "CloudwardError",
    "ConfigError",
    "Controls",
    "Finding",
    "InputError",
    "JsonPath",
    "Location",
    "OperationalError",
    "PSSLevel",
    "PSSVersion",
    "Problem",
    "ProblemKind",
    "ResourceRef",
    "Rule",
    "RuleContext",
    "RuleRegistry",
    "Severity",
    "Suppression",
    "SuppressionSource",
    "Target",
    "TextFile",
    "Violation",
    "format_path",
]
