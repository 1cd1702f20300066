"""Turn the user's targets (files, directories, globs, ``-``) into files to scan.

Directories are walked without following directory symlinks (so loops cannot
happen); version-control, vendor and dependency folders are skipped. Files
named explicitly are scanned whatever their extension.
"""

from __future__ import annotations

import dataclasses
import enum
import glob
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

from cloudward.core.config import Config
from cloudward.core.model import Problem, ProblemKind

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
SKIP_DIRS = frozenset({".git", ".hg", ".svn", "vendor", "node_modules", "third_party", ".terraform", "__pycache__",
                       ".venv", "venv", ".tox", ".mypy_cache", ".pytest_cache", ".ruff_cache"})
_GLOB_CHARS = frozenset("*?[")


class SourceKind(enum.Enum):
    MANIFEST = "manifest"
    DOCKERFILE = "dockerfile"


@dataclasses.dataclass(frozen=True, slots=True)
class Source:
    """A file to scan; ``path`` is ``None`` for standard input."""

    display: str
    path: Path | None
    kind: SourceKind


def is_dockerfile_name(name: str) -> bool:
    lower = name.lower()
    return (lower in ("dockerfile", "containerfile") or lower.endswith(".dockerfile")
            or lower.endswith(".containerfile") or lower.startswith("dockerfile."))


def _classify(path: Path) -> SourceKind:
    return SourceKind.DOCKERFILE if is_dockerfile_name(path.name) else SourceKind.MANIFEST


def discover(targets: Sequence[str], config: Config) -> Iterator[Source | Problem]:
    """Yield sources in a stable order, and problems for targets that cannot be read."""
    seen: set[Path] = set()
    for target in targets:
        if target == "-":
            yield Source("<stdin>", None, SourceKind.MANIFEST)
            continue
        path = Path(target)
        if os.path.lexists(path):
            yield from _target(path, config, seen)
        elif _GLOB_CHARS & set(target):
            matches = sorted(glob.glob(target, recursive=True))
            if not matches:
                yield Problem(ProblemKind.INPUT, f"no files match the pattern {target!r}", file=target)
            for m in matches:
                yield from _target(Path(m), config, seen)
        else:
            yield Problem(ProblemKind.INPUT, "no such file or directory; check the path", file=target)


def _target(path: Path, config: Config, seen: set[Path]) -> Iterator[Source | Problem]:
    if path.is_symlink() and not path.exists():
        yield Problem(ProblemKind.INPUT, f"broken symbolic link (points to {os.readlink(path)!r})", file=str(path))
    elif path.is_dir():
        yield from _walk(path, config, seen)
    elif path.is_file():
        key = path.resolve()
        if key not in seen:
            seen.add(key)
            yield Source(str(path), path, _classify(path))
    else:
        yield Problem(ProblemKind.INPUT, "not a regular file or directory", file=str(path))


def _walk(root: Path, config: Config, seen: set[Path]) -> Iterator[Source | Problem]:
    def onerror(e: OSError) -> None:
        errors.append(Problem(ProblemKind.INPUT, f"cannot read directory: {e.strerror}", file=e.filename))

    errors: list[Problem] = []
    for dirpath, dirnames, filenames in os.walk(root, onerror=onerror, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        yield from errors
        errors.clear()
        base = Path(dirpath)
        if "Chart.yaml" in filenames and "templates" in dirnames:
            # Helm templates are Go templates, not YAML: scanning them raw would only
            # produce syntax errors. Their rendered output is what gets applied.
            dirnames.remove("templates")
            yield Problem(ProblemKind.WARNING, "Helm chart templates are not scanned raw; render them with "
                          f"'helm template {base}' and pipe the output to 'cloudward scan -'",
                          file=str(base / "templates"))
        for name in sorted(filenames):
            if not (name.lower().endswith(MANIFEST_SUFFIXES) or is_dockerfile_name(name)):
                continue
            path = base / name
            if config.excluded(path):
                yield Problem(ProblemKind.SKIP, "excluded by config", file=str(path))
                continue
            if path.is_symlink() and not path.exists():
                yield Problem(ProblemKind.SKIP, "broken symbolic link", file=str(path))
                continue
            if not path.is_file():
                continue
            key = path.resolve()
            if key in seen:
                continue
            seen.add(key)
            yield Source(str(path), path, _classify(path))
    yield from errors
