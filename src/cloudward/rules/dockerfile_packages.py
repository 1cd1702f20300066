"""Rules about package managers in ``RUN``: version pins, caches, recommends, lone updates.

Unpinned installs make builds irreproducible and let a compromised or broken
upstream release slip into the next build unnoticed; leftover package indexes
and caches bloat the image and ship stale metadata. Pinning is checked in every
stage (a builder's packages shape what it produces); cache and recommends only
in the stages that end up in the final image.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator

from cloudward.core.model import Controls, Violation
from cloudward.core.rules import Rule, RuleContext, Target
from cloudward.core.severity import Severity
from cloudward.develop.dockerfile import Dockerfile, Instruction
from cloudward.rules.dockerfile_shell import Command, commands, run_scripts

CIS_DOCKER = "CIS Docker Benchmark v1.6.0"
_BEST_PRACTICES = "https://docs.docker.com/build/building/best-practices/#apt-get"

_APT = frozenset({"apt-get", "apt", "aptitude"})
_RPM = frozenset({"yum", "dnf", "microdnf", "tdnf"})
_PIP = re.compile(r"^pip(\d+(\.\d+)?)?$")
_PYTHON = re.compile(r"^python(\d+(\.\d+)?)?$")
_OPTS_WITH_VALUE = {
    "apt": frozenset({"-o", "-c", "-t", "--option", "--config-file", "--target-release", "--default-release"}),
    "apk": frozenset({"-X", "--repository", "-t", "--virtual", "-p", "--root", "--arch", "--repositories-file",
                      "--cache-dir", "--keys-dir", "--cache-max-age", "--timeout"}),
    "rpm": frozenset({"-c", "--config", "--releasever", "--installroot", "-d", "--debuglevel", "-e", "--errorlevel",
                      "-x", "--exclude", "--enablerepo", "--disablerepo", "--repo", "--repoid", "--setopt",
                      "--downloaddir", "--destdir", "--forcearch"}),
    "pip": frozenset({"-i", "--index-url", "--extra-index-url", "-f", "--find-links", "-t", "--target", "--prefix",
                      "--root", "--trusted-host", "--platform", "--python-version", "--implementation", "--abi",
                      "--src", "--progress-bar", "--log", "--cache-dir", "--upgrade-strategy", "--no-binary",
                      "--only-binary", "-C", "--config-settings", "--global-option", "--proxy", "--retries",
                      "--timeout", "--exists-action", "--cert", "--client-cert", "-r", "--requirement", "-c",
                      "--constraint", "-e", "--editable"}),
}
_INSTALL = {"apt": ("install",), "apk": ("add",), "rpm": ("install",), "pip": ("install",)}
_PINNED = {
    "apt": re.compile(r"=|\.deb$"),
    "apk": re.compile(r"[=~<>]|\.apk$"),
    "rpm": re.compile(r"-\d|\.rpm$|^@"),
    "pip": re.compile(r"==|~=|@|\.(whl|zip|tar\.gz|tgz)$|^[./]|://"),
}


@dataclasses.dataclass(frozen=True, slots=True)
class Install:
    """One package-install command: manager family, the name as typed, options and package arguments."""

    family: str
    manager: str
    options: tuple[str, ...]
    packages: tuple[str, ...]

    def unpinned(self) -> list[str]:
        if self.family == "pip" and any(o in ("-c", "--constraint") or o.startswith("--constraint=")
                                        for o in self.options):
            return []
        return [p for p in self.packages if "$" not in p and "`" not in p and not _PINNED[self.family].search(p)]


def _family(cmd: Command) -> tuple[str, str, tuple[str, ...]] | None:
    """(family, manager as typed, arguments after the manager) for a package-manager command."""
    program, args = cmd.program, cmd.args
    if program in _APT:
        return "apt", program, args
    if program == "apk":
        return "apk", program, args
    if program in _RPM:
        return "rpm", program, args
    if _PIP.match(program):
        return "pip", program, args
    if _PYTHON.match(program) and len(args) >= 2 and args[0] == "-m" and _PIP.match(args[1]):
        return "pip", f"{program} -m {args[1]}", args[2:]
    return None


def parse_manager(cmd: Command) -> tuple[str, str, str | None, tuple[str, ...], tuple[str, ...]] | None:
    """(family, manager, subcommand, options, operands) for a package-manager command, else ``None``."""
    found = _family(cmd)
    if found is None:
        return None
    family, manager, args = found
    takes_value = _OPTS_WITH_VALUE[family]
    options: list[str] = []
    operands: list[str] = []
    subcommand: str | None = None
    i = 0
    while i < len(args):
        arg = args[i]
        if arg.startswith("-") and len(arg) > 1:
            options.append(arg)
            if arg in takes_value and i + 1 < len(args):
                options.append(args[i + 1])
                i += 1
        elif subcommand is None:
            subcommand = arg
        else:
            operands.append(arg)
        i += 1
    return family, manager, subcommand, tuple(options), tuple(operands)


def installs(script: str) -> Iterator[Install]:
    for cmd in commands(script):
        parsed = parse_manager(cmd)
        if parsed is None:
            continue
        family, manager, subcommand, options, operands = parsed
        if subcommand in _INSTALL[family]:
            yield Install(family, manager, options, operands)


def _check_unpinned(df: Dockerfile, ctx: RuleContext) -> Iterator[Violation]:
    hints = {"apt": "name=version", "apk": "name=version", "rpm": "name-version", "pip": "name==version"}
    for ins, script in run_scripts(df):
        for inst in installs(script):
            loose = inst.unpinned()
            if loose:
                yield Violation(message=f"{inst.manager} installs packages without a version pin: {', '.join(loose)} "
                                        f"(pin as {hints[inst.family]})", line=ins.line)


def _mounts_cache(ins: Instruction, *dirs: str) -> bool:
    """True when a ``RUN --mount=type=cache`` covers one of ``dirs`` (the cache then never lands in a layer)."""
    for mount in ins.flag_values("mount"):
        fields = dict(part.partition("=")[::2] for part in mount.split(","))
        target = fields.get("target") or fields.get("dst") or fields.get("destination") or ""
        if fields.get("type") == "cache" and any(target.rstrip("/").endswith(d) for d in dirs):
            return True
    return False


def _rm_of(script: str, path: str) -> bool:
    return any(c.program == "rm" and any(a.startswith(path) for a in c.args) for c in commands(script))


def _cleaned(df: Dockerfile, ins: Instruction, script: str, inst: Install) -> bool:
    cmds = commands(script)
    if inst.family == "apt":
        return _rm_of(script, "/var/lib/apt/lists") or _mounts_cache(ins, "/var/lib/apt/lists", "/var/lib/apt")
    if inst.family == "apk":
        return ("--no-cache" in inst.options or _rm_of(script, "/var/cache/apk")
                or _mounts_cache(ins, "/var/cache/apk", "/etc/apk/cache"))
    if inst.family == "rpm":
        cleans = any(c.program in _RPM and c.args[:2] == ("clean", "all") for c in cmds)
        return (cleans or _rm_of(script, "/var/cache/yum") or _rm_of(script, "/var/cache/dnf")
                or _mounts_cache(ins, "/var/cache/yum", "/var/cache/dnf"))
    stage = df.stages[ins.stage] if ins.stage is not None else df.final
    purged = any((p := parse_manager(c)) is not None and p[0] == "pip" and p[2] == "cache" and "purge" in p[4]
                 for c in cmds)
    return ("--no-cache-dir" in inst.options or "PIP_NO_CACHE_DIR" in df.variables(stage, ins.line) or purged
            or any(c.program == "rm" and any(".cache/pip" in a or a.rstrip("/").endswith(".cache") for a in c.args)
                   for c in cmds)
            or _mounts_cache(ins, ".cache/pip", ".cache"))


def _shipped_runs(df: Dockerfile) -> Iterator[tuple[Instruction, str]]:
    shipped = {s.index for s in df.shipped()}
    for ins, script in run_scripts(df):
        if ins.stage in shipped:
            yield ins, script


def _check_cache(df: Dockerfile, ctx: RuleContext) -> Iterator[Violation]:
    fixes = {"apt": "remove /var/lib/apt/lists/* in the same RUN", "apk": "use apk add --no-cache",
             "rpm": "run clean all in the same RUN", "pip": "use pip install --no-cache-dir"}
    for ins, script in _shipped_runs(df):
        seen: set[str] = set()
        for inst in installs(script):
            if inst.family not in seen and not _cleaned(df, ins, script, inst):
                seen.add(inst.family)
                yield Violation(message=f"{inst.manager} leaves its package cache in the image; {fixes[inst.family]}",
                                line=ins.line)


def _check_recommends(df: Dockerfile, ctx: RuleContext) -> Iterator[Violation]:
    configured = False
    for ins, script in _shipped_runs(df):
        configured = configured or "APT::Install-Recommends" in script
        for inst in installs(script):
            if inst.family != "apt" or configured:
                continue
            if "--no-install-recommends" not in inst.options:
                yield Violation(message=f"{inst.manager} install without --no-install-recommends pulls in "
                                        "recommended packages", line=ins.line)


def _check_update_alone(df: Dockerfile, ctx: RuleContext) -> Iterator[Violation]:
    installing = {"apt": ("install", "upgrade", "dist-upgrade", "full-upgrade"), "apk": ("add", "upgrade")}
    for ins, script in run_scripts(df):
        parsed = [p for p in (parse_manager(c) for c in commands(script)) if p is not None]
        for family, follow_ups in installing.items():
            updates = [p for p in parsed if p[0] == family and p[2] == "update"]
            if updates and not any(p[0] == family and p[2] in follow_ups for p in parsed):
                yield Violation(message=f'"{updates[0][1]} update" runs alone; the cached index goes stale for '
                                        "later installs", line=ins.line)


RULES: tuple[Rule, ...] = (
    Rule(
        id="dockerfile.package-unpinned",
        title="Packages installed without version pins",
        severity=Severity.LOW,
        target=Target.DOCKERFILE,
        check=_check_unpinned,
        description="apt-get/apt, apk, yum/dnf/microdnf and pip installs should pin versions so that a build "
                    "installs exactly what was reviewed and scanned, not whatever the mirror serves that day.",
        remediation="Pin each package (apt: pkg=1.2-3, apk: pkg=1.2-r0, yum/dnf: pkg-1.2, pip: pkg==1.2), or install "
                    "pip packages from a pinned requirements file or with a constraints file (-c).",
        references=(f"{CIS_DOCKER} 4.11: Ensure only verified packages are installed", _BEST_PRACTICES),
        controls=Controls(nist_800_190=("4.1.1",)),
    ),
    Rule(
        id="dockerfile.package-cache",
        title="Package manager cache left in the image",
        severity=Severity.LOW,
        target=Target.DOCKERFILE,
        check=_check_cache,
        description="Package indexes and download caches left in a layer stay in the image for good, even if a later "
                    "layer deletes them: a larger image and stale package metadata. Checked in the stages that make "
                    "up the final image.",
        remediation="In the same RUN: apt-get install ... && rm -rf /var/lib/apt/lists/*; apk add --no-cache; "
                    "yum/dnf install ... && yum/dnf clean all; pip install --no-cache-dir (or ENV PIP_NO_CACHE_DIR=1); "
                    "or use RUN --mount=type=cache for the cache directory.",
        references=(_BEST_PRACTICES,),
    ),
    Rule(
        id="dockerfile.apt-no-install-recommends",
        title="apt installs recommended packages",
        severity=Severity.LOW,
        target=Target.DOCKERFILE,
        check=_check_recommends,
        description="Without --no-install-recommends apt also installs every recommended package, adding software "
                    "(and vulnerabilities) the application never uses. Checked in the stages that make up the final "
                    "image.",
        remediation="Use apt-get install --no-install-recommends, or set APT::Install-Recommends \"false\" in an "
                    "apt.conf.d file earlier in the build.",
        references=(f"{CIS_DOCKER} 4.3: Ensure that unnecessary packages are not installed in the container",
                    _BEST_PRACTICES),
        controls=Controls(nist_800_190=("4.1.1",)),
    ),
    Rule(
        id="dockerfile.update-alone",
        title="Package index update in a RUN of its own",
        severity=Severity.LOW,
        target=Target.DOCKERFILE,
        check=_check_update_alone,
        description="An apt-get update or apk update in its own RUN is cached as a layer; later RUN installs reuse "
                    "that stale index and can install outdated, vulnerable package versions.",
        remediation="Run the update and the install in the same RUN: apt-get update && apt-get install -y ...",
        references=(f"{CIS_DOCKER} 4.7: Ensure update instructions are not used alone in Dockerfiles",
                    _BEST_PRACTICES),
        controls=Controls(nist_800_190=("4.1.1",)),
    ),
)
