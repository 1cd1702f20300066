"""Runtime stage, part 1: threat detection on Kubernetes audit logs with Falco-compatible rules.

``detect(events, ruleset)`` is the pure core; ``load_rules_args``/``load_ruleset``
build a compiled ``RuleSet``; ``detect_files`` reads audit logs and returns a
``DetectReport``; ``DetectPolicy`` (the ``detect:`` section of ``.cloudward.yaml``:
exceptions and threshold rules) tunes what it reports. Event sources live in
``cloudward.runtime.events``, alert sinks and noise control in ``cloudward.runtime.alerts``.
"""

from cloudward.runtime.alerts.model import Alert
from cloudward.runtime.alerts.report import DetectReport
from cloudward.runtime.api import detect_files, load_rules_args
from cloudward.runtime.engine import detect
from cloudward.runtime.events.model import EventRecord
from cloudward.runtime.policy import DetectPolicy
from cloudward.runtime.rules.model import Priority
from cloudward.runtime.rules.ruleset import RuleSet, load_ruleset

__all__ = ["Alert", "DetectPolicy", "DetectReport", "EventRecord", "Priority", "RuleSet", "detect", "detect_files",
           "load_rules_args", "load_ruleset"]
