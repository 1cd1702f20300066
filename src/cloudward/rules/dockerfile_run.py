"""Rules about what ``RUN`` executes: piping downloads into a shell, sudo, disabled verification.

These are about trust in what the build runs: a script fetched and executed in
one step, or a download whose TLS or signature check is switched off, runs
whatever the network served at build time, with nothing recorded to review.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from cloudward.core.model import Controls, Violation
from cloudward.core.rules import Rule, RuleContext, Target
from cloudward.core.severity import Severity
from cloudward.develop.dockerfile import Dockerfile, iter_instructions, parse_env
from cloudward.rules.dockerfile_packages import CIS_DOCKER, parse_manager
from cloudward.rules.dockerfile_shell import Command, commands, run_scripts

_DOWNLOADERS = frozenset({"curl", "wget"})
_SHELLS = frozenset({"sh", "bash", "dash", "zsh", "ksh", "ash", "mksh", "busybox"})
_PYTHON = re.compile(r"^python(\d+(\.\d+)?)?$")
_CODE_OPTIONS = {"shell": "c", "python": "cm", "perl": "eE", "ruby": "e", "node": "ep", "php": "r", "pwsh": "c"}
_LONG_CODE_OPTIONS = frozenset({"--eval", "--print", "--command"})
_SUBSTITUTED_DOWNLOAD = re.compile(r"(\$\(|`|<\()\s*(sudo\s+(-\S+\s+)*)?(curl|wget)\b")
_CURL_OPTS_WITH_VALUE = frozenset("oOHudXeAbcCDEFKmrTUwxyYzQtP") - {"O"}


def _interpreter(program: str) -> str | None:
    if program in _SHELLS:
        return "shell"
    if _PYTHON.match(program):
        return "python"
    if program in ("perl", "ruby", "node", "php", "pwsh"):
        return program
    return None


def _reads_script_from_stdin(kind: str, args: tuple[str, ...]) -> bool:
    """True when the interpreter takes its program from stdin (no -c/-e code, no script file)."""
    code = _CODE_OPTIONS[kind]
    for arg in args:
        if arg in ("-", "--"):
            return True
        if arg.startswith("--"):
            if arg.split("=", 1)[0] in _LONG_CODE_OPTIONS:
                return False
            continue
        if arg.startswith(("-", "+")):
            letters = arg[1:]
            if kind == "shell" and "s" in letters:
                return True
            if any(c in code for c in letters):
                return False
            continue
        return False
    return True


def _target(cmd: Command) -> str:
    urls = [a for a in cmd.args if "://" in a]
    plain = [a for a in cmd.args if not a.startswith("-")]
    return (urls or plain or [""])[0]


def _check_curl_pipe(df: Dockerfile, ctx: RuleContext) -> Iterator[Violation]:
    for ins, script in run_scripts(df):
        pipeline: list[Command] = []
        for cmd in commands(script):
            pipeline = [*pipeline, cmd] if cmd.piped else [cmd]
            kind = _interpreter(cmd.program)
            if kind is not None and cmd.piped and _reads_script_from_stdin(kind, cmd.args):
                source = next((c for c in pipeline[:-1] if c.program in _DOWNLOADERS), None)
                if source is not None:
                    yield Violation(message=f'RUN pipes a download of "{_target(source)}" ({source.program}) into '
                                            f'"{cmd.program}"', line=ins.line)
                    continue
            if kind is not None or cmd.program in ("eval", "source", "."):
                for arg in cmd.args:
                    if _SUBSTITUTED_DOWNLOAD.search(arg):
                        yield Violation(message=f'RUN runs downloaded code with "{cmd.program}": {arg}',
                                        line=ins.line)
                        break


def _check_sudo(df: Dockerfile, ctx: RuleContext) -> Iterator[Violation]:
    for ins, script in run_scripts(df):
        user = next((c for c in commands(script) if c.uses_sudo), None)
        if user is not None:
            shown = " ".join(user.argv[user.argv.index("sudo"):][:4]) if "sudo" in user.argv else "sudo"
            yield Violation(message=f'RUN uses sudo: "{shown}"', line=ins.line)


def _curl_insecure(args: tuple[str, ...]) -> bool:
    if "--insecure" in args:
        return True
    for arg in args:
        if arg.startswith("-") and not arg.startswith("--"):
            for letter in arg[1:]:
                if letter == "k":
                    return True
                if letter in _CURL_OPTS_WITH_VALUE:
                    break
    return False


_TRUE = ("1", "true", "yes")
_FALSE = ("0", "false", "no")


def _insecure_env(name: str, value: str) -> bool:
    name, value = name.upper(), value.strip().lower()
    return ((name == "NODE_TLS_REJECT_UNAUTHORIZED" and value == "0")
            or (name == "GIT_SSL_NO_VERIFY" and value not in ("", *_FALSE))
            or (name == "PYTHONHTTPSVERIFY" and value == "0")
            or (name == "PIP_TRUSTED_HOST" and value != "")
            or (name == "NPM_CONFIG_STRICT_SSL" and value in _FALSE))


def _apt_insecure(options: tuple[str, ...]) -> str | None:
    for opt in options:
        if opt in ("--allow-unauthenticated", "--allow-insecure-repositories", "--force-yes"):
            return opt
        key, _, value = opt.partition("=")
        if key.endswith(("AllowUnauthenticated", "AllowInsecureRepositories")) and value.lower() in _TRUE:
            return opt
        if key.endswith("Verify-Peer") and value.lower() in _FALSE:
            return opt
    return None


def _rpm_insecure(options: tuple[str, ...]) -> str | None:
    for opt in options:
        if opt == "--nogpgcheck":
            return opt
        setting = opt.removeprefix("--setopt=")
        key, _, value = setting.partition("=")
        if key.rsplit(".", 1)[-1] in ("gpgcheck", "sslverify", "repo_gpgcheck") and value.lower() in _FALSE:
            return opt
    return None


def _git_insecure(args: tuple[str, ...]) -> bool:
    lowered = [a.lower() for a in args]
    for i, arg in enumerate(lowered):
        if arg.startswith("http.sslverify") or ".sslverify" in arg:
            value = arg.partition("=")[2] if "=" in arg else (lowered[i + 1] if i + 1 < len(lowered) else "")
            if value in _FALSE:
                return True
    return False


def _insecure_command(cmd: Command) -> str | None:
    """A short description of how ``cmd`` turns verification off, or ``None``."""
    for assignment in cmd.argv:
        name, eq, value = assignment.partition("=")
        if eq and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) and _insecure_env(name, value):
            return assignment
        if not eq:
            break
    program, args = cmd.program, cmd.args
    if program == "curl" and _curl_insecure(args):
        return "curl --insecure"
    if program == "wget" and "--no-check-certificate" in args:
        return "wget --no-check-certificate"
    if program == "git" and _git_insecure(args):
        return "git http.sslVerify=false"
    strict_off = ("strict-ssl" in args and args[-1] in _FALSE) or any(
        a.lower() in ("--strict-ssl=false", "--strict-ssl=0") for a in args)
    if program in ("npm", "yarn", "pnpm") and strict_off:
        return f"{program} strict-ssl false"
    parsed = parse_manager(cmd)
    if parsed is None:
        return None
    family, manager, _, options, _ = parsed
    found: str | None = None
    if family == "pip":
        found = next((o for o in options if o.startswith("--trusted-host")), None)
    elif family == "apk":
        found = "--allow-untrusted" if "--allow-untrusted" in options else None
    elif family == "apt":
        found = _apt_insecure(options)
    elif family == "rpm":
        found = _rpm_insecure(options)
    return f"{manager} {found}" if found else None


def _check_verification(df: Dockerfile, ctx: RuleContext) -> Iterator[Violation]:
    for ins in iter_instructions(df, "ENV", "RUN"):
        if ins.keyword == "ENV":
            for name, value in parse_env(ins):
                if _insecure_env(name, value):
                    yield Violation(message=f"ENV {name}={value} turns off TLS verification for later downloads",
                                    line=ins.line)
            continue
        for cmd in commands(ins.script()):
            how = _insecure_command(cmd)
            if how is not None:
                yield Violation(message=f"RUN turns off download verification: {how}", line=ins.line)


RULES: tuple[Rule, ...] = (
    Rule(
        id="dockerfile.curl-pipe-shell",
        title="Downloaded script piped into a shell",
        severity=Severity.HIGH,
        target=Target.DOCKERFILE,
        check=_check_curl_pipe,
        description="curl/wget output piped into sh, bash, python and the like (or run through sh -c \"$(curl ...)\", "
                    "bash <(curl ...), eval) executes whatever the server returns at build time, unreviewed and "
                    "unverified; a compromised or spoofed host owns the image.",
        remediation="Download to a file, verify it against a pinned checksum or signature (sha256sum -c), then run "
                    "it; or use ADD --checksum=sha256:... for the download.",
        references=(f"{CIS_DOCKER} 4.11: Ensure only verified packages are installed",
                    "https://attack.mitre.org/techniques/T1059/004/"),
        controls=Controls(nist_800_190=("4.1.3",), attack=("T1059.004", "T1195.002")),
    ),
    Rule(
        id="dockerfile.sudo",
        title="RUN uses sudo",
        severity=Severity.MEDIUM,
        target=Target.DOCKERFILE,
        check=_check_sudo,
        description="Build steps already run as the current USER; sudo in a Dockerfile means the image ships sudo and "
                    "a sudoers setup that lets the runtime user become root, and its TTY and signal handling is "
                    "unpredictable in containers.",
        remediation="Run privileged steps before switching USER (or switch USER root for them and back), and do not "
                    "install sudo in the image; use gosu/su-exec at runtime only if a step-down is unavoidable.",
        references=("https://docs.docker.com/build/building/best-practices/#user",
                    "https://attack.mitre.org/techniques/T1548/003/"),
        controls=Controls(nist_800_190=("4.1.2",), attack=("T1548.003",)),
    ),
    Rule(
        id="dockerfile.verification-disabled",
        title="Download or package verification disabled",
        severity=Severity.HIGH,
        target=Target.DOCKERFILE,
        check=_check_verification,
        description="curl -k, wget --no-check-certificate, pip --trusted-host, apk --allow-untrusted, "
                    "apt-get --allow-unauthenticated, yum/dnf --nogpgcheck, git http.sslVerify=false and variables "
                    "like NODE_TLS_REJECT_UNAUTHORIZED=0 turn off TLS or signature checks, so anyone on the network "
                    "path can substitute what the build installs.",
        remediation="Keep verification on: install the CA certificate the mirror needs, import the repository's "
                    "signing key, and remove the insecure option or variable.",
        references=(f"{CIS_DOCKER} 4.11: Ensure only verified packages are installed",
                    "https://attack.mitre.org/techniques/T1557/"),
        controls=Controls(nist_800_190=("4.1.3",), attack=("T1557", "T1195.002")),
    ),
)
