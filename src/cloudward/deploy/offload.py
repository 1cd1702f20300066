"""Gates off the event loop: reviews that must ask a registry run in a bounded thread pool, within a budget.

A worker judges reviews on one asyncio event loop, inline, because a cached
review costs a fraction of a millisecond and a thread hop would cost more. A
signature or vulnerability gate that misses its cache needs a few registry
round trips (each bounded by ``admission.registry.timeout``); done on the loop,
that would stall every other review of the worker. So the server decodes each
request and asks ``gates.registry_pending`` (no network):

- nothing pending — no gates configured, or every verdict and digest cached:
  judged inline, exactly as before;
- something pending: the whole review runs in a thread pool of
  ``admission.registry.concurrency`` threads and the loop awaits it for at most
  ``admission.registry.budget`` seconds (time waiting for a thread included).
  On expiry the failure mode answers — closed denies (500), open allows with a
  warning — naming the gates and images; ``/mutate`` admits unchanged with a
  warning. The thread finishes on its own (registry timeouts bound it) and its
  verdict is cached for the next review.

The pool is bounded, so a registry that hangs ties up at most ``concurrency``
threads; reviews behind them wait in the queue and expire with their budget.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from collections.abc import Callable

from cloudward.core.rules import RuleRegistry
from cloudward.deploy.evaluate import RuleCrash
from cloudward.deploy.gates import registry_pending, runtime, set_stats
from cloudward.deploy.model import AdmissionDecision, AdmissionRequest, Operation
from cloudward.deploy.namespaces import NamespaceStore
from cloudward.deploy.policy import IMAGE_SIGNATURE_RULE, IMAGE_VULNERABILITY_RULE, AdmissionPolicy
from cloudward.deploy.review import EVALUATED_SUBRESOURCES, rule_sets
from cloudward.deploy.verifier import GateStats
from cloudward.deploy.wire import Answer, answer_request, encoded, failure_decision

log = logging.getLogger(__name__)
MAX_LISTED = 3
#: The ``gate`` label of each gate rule in ``GateStats``.
_GATE_NAMES = {IMAGE_SIGNATURE_RULE: "signature", IMAGE_VULNERABILITY_RULE: "vulnerabilities"}


class GateOffload:
    """Answers decoded requests: inline when no gate needs a registry, else in the pool within the budget."""

    def __init__(self, policy: AdmissionPolicy, namespaces: NamespaceStore | None, registry: RuleRegistry | None,
                 stats: GateStats | None = None, on_offload: Callable[[str], None] | None = None) -> None:
        self.policy = policy
        self.namespaces = namespaces
        self.registry = registry
        self.budget = policy.registry.budget
        self.on_offload = on_offload or (lambda outcome: None)
        self.stats = stats or GateStats()
        # Build the shared rule index and gate state now, before two threads could race to build two of them.
        rule_sets(policy, registry)
        self.gated = policy.signatures is not None or policy.vulnerabilities is not None
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None
        if self.gated:
            runtime(policy)
            set_stats(policy, self.stats)
            self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=policy.registry.concurrency,
                                                               thread_name_prefix="cloudward-gates")

    def pending(self, request: AdmissionRequest) -> list[tuple[str, str]]:
        """(gate rule id, image) pairs that would make this review wait for a registry; no network."""
        if not self.gated or request.operation not in (Operation.CREATE, Operation.UPDATE):
            return []
        if request.sub_resource and request.sub_resource not in EVALUATED_SUBRESOURCES:
            return []
        objects = [o for o in (request.object, request.old_object) if isinstance(o, dict)]
        kind = request.kind[2]
        return registry_pending([o if "kind" in o else {**o, "kind": kind} for o in objects], self.policy)

    def answer_inline(self, request: AdmissionRequest, mutate: bool) -> Answer:
        """Judge on the calling thread (the event loop when nothing is pending; ``BadReview`` on bad input)."""
        return answer_request(request, self.policy, self.namespaces, registry=self.registry, mutate=mutate)

    async def answer(self, request: AdmissionRequest, mutate: bool) -> Answer:
        """Judge in the pool; past the budget, answer by the failure mode (or unpinned, for ``/mutate``)."""
        pending = self.pending(request)
        if not pending or self._pool is None:
            return self.answer_inline(request, mutate)
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self._pool, self.answer_inline, request, mutate)
        try:
            result = await asyncio.wait_for(future, self.budget)
        except TimeoutError:
            self.on_offload("budget")
            return self._expired(request, pending, mutate)
        self.on_offload("answered")
        return result

    def _expired(self, request: AdmissionRequest, pending: list[tuple[str, str]], mutate: bool) -> Answer:
        gates = sorted({g for g, _ in pending})
        for gate in gates:
            self.stats.failure(_GATE_NAMES.get(gate, gate), "budget")
        images = sorted({i for _, i in pending})
        listed = ", ".join(images[:MAX_LISTED]) + (f" and {len(images) - MAX_LISTED} more"
                                                    if len(images) > MAX_LISTED else "")
        what = (f"{', '.join(gates)}: registry checks of {listed} did not finish within the review budget of "
                f"{self.budget:g}s (admission.registry.budget); the verdict will be cached once the registry "
                "answers")
        log.warning("review %s (%s %s/%s): %s", request.uid, request.kind[2], request.namespace, request.name, what)
        if mutate:
            decision = AdmissionDecision(uid=request.uid, allowed=True, namespace=request.namespace,
                                         dry_run=request.dry_run,
                                         warnings=(f"cloudward: images not pinned to digests: {what}"[:120],))
            return encoded(request, decision)
        return encoded(request, failure_decision(request, self.policy.failure_mode, RuleCrash(what)))

    def close(self) -> None:
        """Stop taking work; queued reviews are dropped (their callers have answered or are gone)."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
