"""Verify N cosign-format image signatures from a local docker-registry and report per-verification latency.

Starts /usr/bin/docker-registry on 127.0.0.1 with a temporary config, pushes one
small image, signs it once, then runs ``verify_image`` N times with one
``RegistryClient`` (each run: resolve the tag, fetch the signature manifest and
the payload blob — three HTTP requests over the client's kept-alive connection —
and check the ECDSA P-256 signature). docs/performance.md "## Signing" has the
figures before and after connection reuse.
No peer: cosign is not installable from the package registries this project
uses. Target from issue 7: p50 under 5 ms from a warm connection.

    .venv/bin/python bench/bench_signing.py [--n 1000]
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from cloudward.distribute.image import RegistryClient, RegistryRef
from cloudward.distribute.signing import KeySigner, generate_key, sign_image, verify_image
from cloudward.distribute.signing.cosign import SignatureLayer, check_simple_signing
from cloudward.distribute.signing.simplesigning import build_payload


def _digest(b: bytes) -> str:
    return "sha256:" + hashlib.sha256(b).hexdigest()


def _image() -> tuple[dict[str, bytes], bytes]:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("hello.txt")
        info.size = 5
        tar.addfile(info, io.BytesIO(b"hello"))
    layer = gzip.compress(buf.getvalue(), mtime=0)
    config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers",
                         "diff_ids": [_digest(buf.getvalue())]}}).encode()
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                      "digest": _digest(config), "size": len(config)},
                           "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                                       "digest": _digest(layer), "size": len(layer)}]}).encode()
    return {_digest(layer): layer, _digest(config): config}, manifest


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp, socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        cfg = Path(tmp) / "config.yml"
        cfg.write_text(f"version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {tmp}/data\n"
                       f"http:\n  addr: 127.0.0.1:{port}\n")
        proc = subprocess.Popen(["/usr/bin/docker-registry", "serve", str(cfg)], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 20
            while True:
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/", timeout=1).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
            client = RegistryClient(f"127.0.0.1:{port}", insecure=True)
            blobs, manifest = _image()
            for d, b in blobs.items():
                client.push_blob("bench/app", b, d)
            client.push_manifest("bench/app", "v1", manifest, "application/vnd.oci.image.manifest.v1+json")
            ref = RegistryRef(f"127.0.0.1:{port}", "bench/app", tag="v1")
            signer = KeySigner(generate_key())
            sign_image(client, ref, signer)
            keys = [signer.public_key()]
            for _ in range(20):  # warm-up
                verify_image(client, ref, keys)
            times = []
            for _ in range(args.n):
                t0 = time.perf_counter()
                verify_image(client, ref, keys)
                times.append((time.perf_counter() - t0) * 1000)
            # crypto + parsing alone, without the registry round trips
            payload = build_payload(ref.registry + "/bench/app", _digest(manifest))
            import base64
            sig = base64.b64encode(signer.sign(payload)).decode()
            layer = SignatureLayer("application/vnd.dev.cosign.simplesigning.v1+json", payload,
                                   {"dev.cosignproject.cosign/signature": sig})
            local = []
            for _ in range(args.n):
                t0 = time.perf_counter()
                check_simple_signing(layer, keys, digest=_digest(manifest))
                local.append((time.perf_counter() - t0) * 1000)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    q = statistics.quantiles(times, n=100)
    ql = statistics.quantiles(local, n=100)
    print(f"verify_image via registry, n={args.n}: p50 {q[49]:.2f} ms, p95 {q[94]:.2f} ms, p99 {q[98]:.2f} ms, "
          f"mean {statistics.mean(times):.2f} ms, total {sum(times) / 1000:.2f} s")
    print(f"signature check only (no I/O), n={args.n}: p50 {ql[49]:.3f} ms, p95 {ql[94]:.3f} ms")
    print(f"target p50 < 5 ms: {'met' if q[49] < 5 else 'NOT met'} (ratio p50/target = {q[49] / 5:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
