"""The human SBOM: one line per package, aligned, terminal-safe."""

from __future__ import annotations

from cloudward.distribute.sbom.model import Sbom
from cloudward.report.table import terminal_safe


def render_sbom_table(sbom: Sbom) -> str:
    raw = [("NAME", "VERSION", "TYPE", "PATH")]
    raw += [(p.name, p.version, p.ecosystem.value, p.path or "") for p in sbom.packages]
    rows = [[terminal_safe(c) for c in r] for r in raw]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = [f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:<{widths[2]}}  {r[3]}".rstrip() for r in rows]
    d = sbom.distro
    os_line = (d.pretty_name or f"{d.id} {d.version_id}") if d else "unknown"
    lines.append("")
    lines.append(terminal_safe(f"{sbom.image.name}: {len(sbom.packages)} packages, OS: {os_line}"))
    return "\n".join(lines) + "\n"
