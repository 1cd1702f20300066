"""``detect(events, ruleset) -> Iterator[Alert]``: the pure core of audit-log threat detection.

Each event meets only its candidate rules (from the rule index), in rule order, and
every match becomes one alert, as Falco reports it. A rule that raises is never
skipped silently: detection stops with an ``OperationalError`` naming the rule and
the event (STYLE 11).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from cloudward.core.errors import OperationalError
from cloudward.runtime.alerts.model import Alert, fingerprint
from cloudward.runtime.events.model import EventRecord
from cloudward.runtime.rules.ruleset import RuleSet


def detect(events: Iterable[EventRecord | dict[str, Any]], ruleset: RuleSet) -> Iterator[Alert]:
    """Alerts for every (event, rule) match, in event order then rule order."""
    candidates = ruleset.candidates
    source = ruleset.source
    for rec in events:
        if isinstance(rec, EventRecord):
            ev, file, line = rec.event, rec.file, rec.line
        else:
            ev, file, line = rec, None, None
        for rule in candidates(ev):
            try:
                hit = (rule.match_indexed or rule.match)(ev)
            except Exception as e:
                where = f" ({file}:{line})" if file else ""
                raise OperationalError(f"rule {rule.name!r} failed on event {ev.get('auditID', '?')}{where}: "
                                       f"{type(e).__name__}: {e}") from e
            if hit:
                d = rule.definition
                text, fields = rule.output.render_fields(ev)
                yield Alert(d.name, d.priority, text, _time(ev), d.tags, source, ev, fingerprint(d.name, ev),
                            rule.slug, fields, file, line)


def _time(ev: dict[str, Any]) -> str:
    for key in ("stageTimestamp", "requestReceivedTimestamp", "timestamp"):
        v = ev.get(key)
        if isinstance(v, str) and v:
            return v
    return ""
