"""Alerts: the model, noise control (aggregation, rate limits), sinks, and reports."""

from cloudward.runtime.alerts.model import Alert, fingerprint
from cloudward.runtime.alerts.noise import Aggregator, RateLimiter, aggregate

__all__ = ["Aggregator", "Alert", "RateLimiter", "aggregate", "fingerprint"]
