"""``find_secrets(text, path)``: a pure function over text, for image files and for ``cloudward scan``."""

from __future__ import annotations

import dataclasses
import math
import re
from collections import Counter
from collections.abc import Iterable, Iterator

from cloudward.core.severity import Severity
from cloudward.distribute.secrets.rules import RULES, SecretRule

_PLACEHOLDER = re.compile(r"(?i)^(?:\$\{?[\w.-]+\}?|<[^>]+>|\{\{.*\}\}|%\(?\w+\)?s?|x{4,}|\*{3,}|changeme|"
                          r"password|secret|example|dummy|redacted|null|none|true|false)$")


@dataclasses.dataclass(frozen=True, slots=True)
class SecretMatch:
    """One secret: which rule, where (1-based line and column), and the secret redacted."""

    rule_id: str
    title: str
    severity: Severity
    path: str
    line: int
    column: int
    redacted: str
    line_text: str  # the line with the secret replaced by its redacted form


def shannon_entropy(text: str) -> float:
    if not text:
        return 0.0
    counts = Counter(text)
    n = len(text)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def redact(secret: str) -> str:
    """Keep enough to recognise the secret (its first 4 characters at most), never enough to use it."""
    keep = min(4, len(secret) // 4)
    return secret[:keep] + "*" * min(max(len(secret) - keep, 4), 16)


def find_secrets(text: str, path: str, rules: Iterable[SecretRule] = RULES) -> Iterator[SecretMatch]:
    """Every secret in ``text`` (the contents of ``path``), in order of position."""
    lowered = text.lower()
    found: list[SecretMatch] = []
    seen: set[tuple[int, int]] = set()
    line_starts: list[int] | None = None
    for rule in rules:
        if not any(k in lowered for k in rule.keywords):
            continue
        for m in rule.pattern.finditer(text):
            secret = m.group(rule.group)
            start = m.start(rule.group)
            if (start, len(secret)) in seen or _PLACEHOLDER.match(secret):
                continue
            if rule.min_entropy and shannon_entropy(secret) < rule.min_entropy:
                continue
            seen.add((start, len(secret)))
            if line_starts is None:
                line_starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]
            line = _bisect(line_starts, start)
            line_start = line_starts[line - 1]
            end = text.find("\n", start)
            raw_line = text[line_start:end if end >= 0 else len(text)]
            shown = redact(secret)
            found.append(SecretMatch(rule.id, rule.title, rule.severity, path, line, start - line_start + 1, shown,
                                     raw_line.replace(secret, shown)[:300]))
    found.sort(key=lambda s: (s.line, s.column))
    yield from found


def _bisect(starts: list[int], pos: int) -> int:
    from bisect import bisect_right

    return bisect_right(starts, pos)
