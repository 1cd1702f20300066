"""Small helpers shared by the workload hardening rules (``workload_*.py``).

The hardening rules go beyond the Pod Security Standards, so they do not share
the PSS plumbing (policy versions, PSA exemptions); what they do share is how a
container is named in a message, which containers a rule looks at, and where a
finding points when the field it wants is missing.
"""

from __future__ import annotations

from collections.abc import Iterator

from cloudward.k8s.workloads import Container, PodSpec


def workload_containers(spec: PodSpec) -> Iterator[Container]:
    """Init and regular containers: the ones a workload author defines and runs.

    Ephemeral containers are left out of the rules that use this: they are
    added to a running pod by an operator (``kubectl debug``), never written in
    a manifest, and the API forbids resources and probes on them.
    """
    for container in spec.containers():
        if container.field != "ephemeralContainers":
            yield container


