"""cosign's simple-signing payload: what an image signature actually signs.

``{"critical":{"identity":{"docker-reference":R},"image":{"docker-manifest-digest":D},
"type":"cosign container image signature"},"optional":A}`` where ``A`` is the
annotations object or ``null``. cosign marshals it with Go's encoding/json, so we
produce the same bytes (field order, no spaces, ``<>&`` escaped, sorted
annotation keys); verification always checks the exact bytes that were signed and
never re-serialises.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

from cloudward.core import jsonsafe

COSIGN_SIGNATURE_TYPE = "cosign container image signature"
SIMPLESIGNING_MEDIA_TYPE = "application/vnd.dev.cosign.simplesigning.v1+json"
MAX_PAYLOAD = 1024 * 1024


def go_json(value: Any) -> str:
    """JSON as Go's ``json.Marshal`` writes it (compact, HTML-safe escapes, UTF-8 kept)."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"),
                    ("\u2029", "\\u2029")):
        text = text.replace(ch, esc)
    return text


def build_payload(docker_reference: str, manifest_digest: str, annotations: Mapping[str, str] | None = None) -> bytes:
    """The payload bytes cosign would sign for this reference and digest."""
    critical = {"identity": {"docker-reference": docker_reference},
                "image": {"docker-manifest-digest": manifest_digest},
                "type": COSIGN_SIGNATURE_TYPE}
    optional = dict(sorted(annotations.items())) if annotations else None
    return go_json({"critical": critical, "optional": optional}).encode()


@dataclasses.dataclass(frozen=True, slots=True)
class SimpleSigningPayload:
    docker_reference: str
    manifest_digest: str
    annotations: tuple[tuple[str, str], ...]  # the "optional" object; non-string values are JSON-encoded
    raw: bytes

    @property
    def annotation_map(self) -> dict[str, str]:
        return dict(self.annotations)


def parse_payload(raw: bytes) -> SimpleSigningPayload:
    """Parse the signed bytes; raise ``ValueError`` naming the field that is wrong."""
    if len(raw) > MAX_PAYLOAD:
        raise ValueError(f"payload is {len(raw)} bytes, above the {MAX_PAYLOAD} byte limit")
    try:
        doc = jsonsafe.loads(raw)
    except (ValueError, UnicodeDecodeError) as e:
        raise ValueError(f"payload is not JSON: {e}") from None
    critical = doc.get("critical") if isinstance(doc, dict) else None
    if not isinstance(critical, dict):
        raise ValueError("payload has no 'critical' object")
    if critical.get("type") != COSIGN_SIGNATURE_TYPE:
        raise ValueError(f"payload critical.type is {critical.get('type')!r}, not {COSIGN_SIGNATURE_TYPE!r}")
    identity, image = critical.get("identity"), critical.get("image")
    ref = identity.get("docker-reference") if isinstance(identity, dict) else None
    digest = image.get("docker-manifest-digest") if isinstance(image, dict) else None
    if not isinstance(digest, str) or ":" not in digest:
        raise ValueError("payload has no critical.image.docker-manifest-digest")
    if not isinstance(ref, str):
        raise ValueError("payload has no critical.identity.docker-reference")
    optional = doc.get("optional")
    pairs: tuple[tuple[str, str], ...] = ()
    if isinstance(optional, dict):
        pairs = tuple(sorted((str(k), v if isinstance(v, str) else json.dumps(v)) for k, v in optional.items()))
    elif optional is not None:
        raise ValueError("payload 'optional' is neither an object nor null")
    return SimpleSigningPayload(ref, digest, pairs, raw)
