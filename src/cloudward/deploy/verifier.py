"""Image signatures at admission: the signing stage's verification policy, with verdicts cached per digest.

``ImageVerifier.verify(image)`` resolves a tag to its manifest digest and runs
``PolicySet.evaluate`` — exactly what ``cloudward verify --policy`` runs — with
a registry client for the image's registry (credentials from the auth file, as
``cloudward verify``). Verdicts are cached per ``registry/repository@digest``:
a verified digest for ``cache_ttl`` seconds, a refusal for
``failure_cache_ttl``; tag → digest resolutions for ``cache_ttl``. A cached
review touches no network. A registry that fails (unreachable, 5xx, timeout,
refused credentials) raises ``GateUnavailable``, never a verdict, and is not
cached: the webhook's failure mode decides.
"""

from __future__ import annotations

import dataclasses
import logging
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


class TtlCache(Generic[V]):
    """A small dict with per-entry expiry and a size bound (oldest entries go first)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, max_entries: int = MAX_ENTRIES) -> None:
        self._data: dict[str, tuple[float, V]] = {}
        self._clock = clock
        self._max = max_entries

    def get(self, key: str) -> V | None:
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
        if len(self._data) >= self._max:
            for old in list(self._data)[: self._max // 10 or 1]:
                del self._data[old]
        self._data.pop(key, None)
        self._data[key] = (self._clock() + ttl, value)

    def __len__(self) -> int:
        return len(self._data)


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

    def __init__(self, access: RegistryAccess, clock: Callable[[], float] = time.monotonic) -> None:
        self.access = access
        self._clients: dict[str, RegistryClient] = {}
        self._digests: TtlCache[str] = TtlCache(clock)
        self.lookups = 0  # registry round trips, for tests and metrics

    def client(self, ref: RegistryRef) -> RegistryClient:
        client = self._clients.get(ref.registry)
        if client is None:
            client = RegistryClient.for_ref(ref, insecure=ref.registry in self.access.insecure,
                                            timeout=self.access.timeout, auth_file=self.access.auth_file)
            self._clients[ref.registry] = client
        return client

    def digest(self, ref: RegistryRef) -> str | None:
        """The manifest digest ``ref`` names now; ``None`` when the image does not exist."""
        if ref.digest:
            return ref.digest
        key = str(ref)
        cached = self._digests.get(key)
        if cached is not None:
            return cached
        self.lookups += 1
        try:
            digest = self.client(ref).resolve(ref.repository, ref.reference).digest
        except NotFoundError:
            return None
        except RegistryAuthError as e:
            raise GateUnavailable(f"registry {ref.registry} refused the webhook's credentials: {e}") from e
        except (CloudwardError, OSError) as e:
            if isinstance(e, InputError) and not isinstance(e, RegistryAuthError):
                return None  # a manifest that is not an image (or malformed): nothing to verify
            raise GateUnavailable(f"registry {ref.registry} unavailable: {e}") from e
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
        self.evaluations = 0  # full policy evaluations (registry round trips), for tests and metrics

    def cached(self, image: str) -> SignatureVerdict | None:
        """The cached verdict for ``image``, without any network (for ``/mutate`` after ``/validate``)."""
        ref = parse_image_ref(image)
        if ref is None:
            return None
        digest = ref.digest or self.resolver._digests.get(str(ref))
        return self._verdicts.get(f"{ref.registry}/{ref.repository}@{digest}") if digest else None

    def verify(self, image: str) -> SignatureVerdict:
        """Verify ``image`` (as written in the pod spec); raises ``GateUnavailable`` when the registry fails."""
        ref = parse_image_ref(image)
        if ref is None:
            return SignatureVerdict(image, None, False, "not a valid registry image reference")
        digest = self.resolver.digest(ref)
        if digest is None:
            return SignatureVerdict(image, None, False, f"{ref} does not exist in its registry")
        key = f"{ref.registry}/{ref.repository}@{digest}"
        cached = self._verdicts.get(key)
        if cached is not None:
            return dataclasses.replace(cached, image=image)
        self.evaluations += 1
        access = self.resolver.access
        try:
            result = self.gate.policy.evaluate(ImageUnderCheck(ref.with_digest(digest), self.resolver.client(ref),
                                                               self.gate.revoked))
        except NotVerifiedError as e:
            verdict = SignatureVerdict(image, digest, False, e.reason)
            self._verdicts.put(key, verdict, access.failure_cache_ttl)
            return verdict
        except (CloudwardError, OSError) as e:
            raise GateUnavailable(f"cannot verify {ref}: registry {ref.registry} failed: {e}") from e
        verdict = SignatureVerdict(image, digest, True, keys=tuple(sorted({v.key for v in result.verified})))
        self._verdicts.put(key, verdict, access.cache_ttl)
        log.info("verified %s (%s) by %s", ref, digest, ", ".join(verdict.keys))
        return verdict
