"""Image signatures at admission: the signing stage's verification policy, with verdicts cached per digest.

``ImageVerifier.verify(image)`` resolves a tag to its manifest digest and runs
``PolicySet.evaluate`` — exactly what ``cloudward verify --policy`` runs — with
a registry client for the image's registry (credentials from the auth file, as
``cloudward verify``). Verdicts are cached per ``registry/repository@digest``:
a verified digest for ``cache_ttl`` seconds, a refusal for
``failure_cache_ttl``; tag → digest resolutions for ``cache_ttl``. A cached
review touches no network. A registry that fails (unreachable, 5xx, timeout,
refused credentials) raises ``GateUnavailable``, never a verdict, and is not
cached: the webhook's failure mode decides. Concurrent reviews of one image
(a ReplicaSet creating 50 pods at once) share one registry round trip: while a
resolution or verification of a key is in flight, later callers wait for its
result instead of starting their own (``SingleFlight``).

In the server, reviews that need the registry run in a small thread pool
(``deploy.offload``) while cached reviews are judged on the event loop, so the
caches and clients here are shared between threads: caches take a lock, and
``needs_registry`` tells, without any network, whether a review would have to
wait for a registry. ``GateStats`` receives cache hits and misses, registry
latency and failures per gate (the server turns them into Prometheus metrics).
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from cloudward.core.errors import CloudwardError, InputError
from cloudward.deploy.gateconfig import RegistryAccess, SignatureGate
from cloudward.distribute.image import NotFoundError, RegistryAuthError, RegistryClient, RegistryRef
from cloudward.distribute.image.reference import parse_registry_ref
from cloudward.distribute.signing.errors import NotVerifiedError
from cloudward.distribute.signing.policy import ImageUnderCheck

log = logging.getLogger(__name__)
MAX_ENTRIES = 10_000
V = TypeVar("V")


class GateUnavailable(CloudwardError):
    """A gate could not reach what it needs (a registry); the failure mode decides the answer."""


class GateStats:
    """Where gates report what they did; this one ignores it (tests, the CLI). The server records metrics.

    ``gate`` is ``signature`` or ``vulnerabilities``; ``cache`` is ``digest``
    (tag → digest), ``verdict`` (signature verdicts) or ``report`` (scan cache
    file parsed, versus kept in memory); ``operation`` is ``resolve`` or
    ``verify``; ``reason`` is ``unavailable``, ``credentials`` or ``budget``.
    """

    def cache(self, gate: str, cache: str, hit: bool) -> None:
        """A cache lookup: hit, or miss (the registry or disk will be asked)."""

    def registry(self, gate: str, operation: str, seconds: float) -> None:
        """One registry operation finished (successfully or not) after ``seconds``."""

    def failure(self, gate: str, reason: str) -> None:
        """A gate could not decide; the failure mode answers."""


class TtlCache(Generic[V]):
    """A small dict with per-entry expiry and a size bound (oldest entries go first); thread-safe."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, max_entries: int = MAX_ENTRIES) -> None:
        self._data: dict[str, tuple[float, V]] = {}
        self._clock = clock
        self._max = max_entries
        self._lock = threading.Lock()

    def get(self, key: str) -> V | None:
        with self._lock:
            hit = self._data.get(key)
            if hit is None:
                return None
            if hit[0] <= self._clock():
                del self._data[key]
                return None
            return hit[1]

    def put(self, key: str, value: V, ttl: float) -> None:
        if ttl <= 0:
            return
        with self._lock:
            if len(self._data) >= self._max:
                for old in list(self._data)[: self._max // 10 or 1]:
                    del self._data[old]
            self._data.pop(key, None)
            self._data[key] = (self._clock() + ttl, value)

    def __len__(self) -> int:
        return len(self._data)


class _Call(Generic[V]):
    __slots__ = ("done", "error", "value", "waiting")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.value: V | None = None
        self.error: BaseException | None = None
        self.waiting = 0


class SingleFlight(Generic[V]):
    """At most one call per key at a time; callers that arrive meanwhile get that call's result or error."""

    def __init__(self) -> None:
        self._calls: dict[str, _Call[V]] = {}
        self._lock = threading.Condition()

    def do(self, key: str, fn: Callable[[], V]) -> V:
        with self._lock:
            call = self._calls.get(key)
            leader = call is None
            if call is None:
                call = self._calls[key] = _Call()
            else:
                call.waiting += 1
                self._lock.notify_all()
        if not leader:
            call.done.wait()
            if call.error is not None:
                raise call.error
            return call.value  # type: ignore[return-value]  # set before done, by the leader
        try:
            call.value = fn()
            return call.value
        except BaseException as e:
            call.error = e
            raise
        finally:
            with self._lock:
                del self._calls[key]
            call.done.set()

    def waiting(self, key: str) -> int:
        """How many callers are waiting for the call in flight for ``key`` (0 when none is)."""
        with self._lock:
            call = self._calls.get(key)
            return call.waiting if call is not None else 0

    def wait_for_waiters(self, key: str, n: int, timeout: float) -> bool:
        """Block until ``n`` callers wait on ``key`` (for tests and the bench); False on timeout."""
        with self._lock:
            return self._lock.wait_for(lambda: (c := self._calls.get(key)) is not None and c.waiting >= n, timeout)


@dataclasses.dataclass(frozen=True, slots=True)
class SignatureVerdict:
    """The answer for one image: verified (with the digest that was verified) or the reason it is not."""

    image: str
    digest: str | None
    verified: bool
    reason: str = ""
    keys: tuple[str, ...] = ()


class DigestResolver:
    """Tag → manifest digest through the registry, cached; one client per registry (keep-alive, tokens)."""

    def __init__(self, access: RegistryAccess, clock: Callable[[], float] = time.monotonic,
                 stats: GateStats | None = None) -> None:
        self.access = access
        self.stats = stats or GateStats()
        self._clients: dict[str, RegistryClient] = {}
        self._digests: TtlCache[str] = TtlCache(clock)
        self._lock = threading.Lock()
        self.flights: SingleFlight[str | None] = SingleFlight()
        self.lookups = 0  # registry round trips, for tests and metrics

    def client(self, ref: RegistryRef) -> RegistryClient:
        with self._lock:
            client = self._clients.get(ref.registry)
            if client is None:
                client = RegistryClient.for_ref(ref, insecure=ref.registry in self.access.insecure,
                                                timeout=self.access.timeout, auth_file=self.access.auth_file)
                self._clients[ref.registry] = client
            return client

    def cached_digest(self, ref: RegistryRef) -> str | None:
        """The digest ``ref`` names without asking the registry: pinned, or resolved within ``cache_ttl``."""
        return ref.digest or self._digests.get(str(ref))

    def digest(self, ref: RegistryRef, gate: str = "signature") -> str | None:
        """The manifest digest ``ref`` names now; ``None`` when the image does not exist."""
        if ref.digest:
            return ref.digest
        key = str(ref)
        cached = self._digests.get(key)
        self.stats.cache(gate, "digest", cached is not None)
        if cached is not None:
            return cached
        return self.flights.do(key, lambda: self._resolve(ref, key, gate))

    def _resolve(self, ref: RegistryRef, key: str, gate: str) -> str | None:
        cached = self._digests.get(key)  # resolved by a flight that ended while this one was starting
        if cached is not None:
            return cached
        self.lookups += 1
        start = time.perf_counter()
        try:
            digest = self.client(ref).resolve(ref.repository, ref.reference).digest
        except NotFoundError:
            return None
        except RegistryAuthError as e:
            self.stats.failure(gate, "credentials")
            raise GateUnavailable(f"registry {ref.registry} refused the webhook's credentials: {e}") from e
        except (CloudwardError, OSError) as e:
            if isinstance(e, InputError) and not isinstance(e, RegistryAuthError):
                return None  # a manifest that is not an image (or malformed): nothing to verify
            self.stats.failure(gate, "unavailable")
            raise GateUnavailable(f"registry {ref.registry} unavailable: {e}") from e
        finally:
            self.stats.registry(gate, "resolve", time.perf_counter() - start)
        self._digests.put(key, digest, self.access.cache_ttl)
        return digest


def parse_image_ref(image: str) -> RegistryRef | None:
    """A pod spec's image as a registry reference with Docker's defaults; ``None`` when it is not one."""
    try:
        return parse_registry_ref(image.strip())
    except InputError:
        return None


class ImageVerifier:
    """Runs a ``SignatureGate``'s policy for images, caching verdicts per digest."""

    def __init__(self, gate: SignatureGate, resolver: DigestResolver,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.gate = gate
        self.resolver = resolver
        self._verdicts: TtlCache[SignatureVerdict] = TtlCache(clock)
        self.flights: SingleFlight[SignatureVerdict] = SingleFlight()
        self.evaluations = 0  # full policy evaluations (registry round trips), for tests and metrics

    def cached(self, image: str) -> SignatureVerdict | None:
        """The cached verdict for ``image``, without any network (for ``/mutate`` after ``/validate``)."""
        ref = parse_image_ref(image)
        if ref is None:
            return None
        digest = self.resolver.cached_digest(ref)
        return self._verdicts.get(f"{ref.registry}/{ref.repository}@{digest}") if digest else None

    def needs_registry(self, image: str) -> bool:
        """Whether ``verify(image)`` would ask the registry now (no verdict or digest cached)."""
        return parse_image_ref(image) is not None and self.cached(image) is None

    def verify(self, image: str) -> SignatureVerdict:
        """Verify ``image`` (as written in the pod spec); raises ``GateUnavailable`` when the registry fails."""
        ref = parse_image_ref(image)
        if ref is None:
            return SignatureVerdict(image, None, False, "not a valid registry image reference")
        digest = self.resolver.digest(ref, "signature")
        if digest is None:
            return SignatureVerdict(image, None, False, f"{ref} does not exist in its registry")
        key = f"{ref.registry}/{ref.repository}@{digest}"
        cached = self._verdicts.get(key)
        stats = self.resolver.stats
        stats.cache("signature", "verdict", cached is not None)
        if cached is not None:
            return dataclasses.replace(cached, image=image)
        verdict = self.flights.do(key, lambda: self._evaluate(image, ref, digest, key))
        return verdict if verdict.image == image else dataclasses.replace(verdict, image=image)

    def _evaluate(self, image: str, ref: RegistryRef, digest: str, key: str) -> SignatureVerdict:
        stats = self.resolver.stats
        cached = self._verdicts.get(key)  # decided by a flight that ended while this one was starting
        if cached is not None:
            return cached
        self.evaluations += 1
        access = self.resolver.access
        start = time.perf_counter()
        try:
            result = self.gate.policy.evaluate(ImageUnderCheck(ref.with_digest(digest), self.resolver.client(ref),
                                                               self.gate.revoked))
        except NotVerifiedError as e:
            verdict = SignatureVerdict(image, digest, False, e.reason)
            self._verdicts.put(key, verdict, access.failure_cache_ttl)
            return verdict
        except (CloudwardError, OSError) as e:
            stats.failure("signature", "unavailable")
            raise GateUnavailable(f"cannot verify {ref}: registry {ref.registry} failed: {e}") from e
        finally:
            stats.registry("signature", "verify", time.perf_counter() - start)
        verdict = SignatureVerdict(image, digest, True, keys=tuple(sorted({v.key for v in result.verified})))
        self._verdicts.put(key, verdict, access.cache_ttl)
        log.info("verified %s (%s) by %s", ref, digest, ", ".join(verdict.keys))
        return verdict
