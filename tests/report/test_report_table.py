"""The table: grouped by file, colour only on request, safe to print to a terminal."""

from __future__ import annotations

import datetime as dt

from cloudward.core.model import Problem, ProblemKind, Suppression, SuppressionSource
from cloudward.report import ReportFormat, render
from cloudward.report.table import terminal_safe
from tests.report.reportkit import PRIVILEGED, RUN_AS_NON_ROOT, WEB, finding, report, sample_report

ESC = "\x1b"


def _table(rep: object, color: bool = False) -> str:
    return render(rep, ReportFormat.TABLE, color=color)  # type: ignore[arg-type]


def test_single_finding_layout() -> None:
    rep = report((finding(PRIVILEGED, "k8s/deploy.yaml", 12, resource=WEB, message="privileged: true"),))
    assert _table(rep) == (
        "k8s/deploy.yaml\n"
        "  12  CRITICAL  pod.privileged  Deployment/prod/web  privileged: true\n"
        "\n"
        "1 finding (1 critical, 0 high, 0 medium, 0 low, 0 info), 0 suppressed, in 1 file / 1 resource\n"
    )


def test_columns_line_up_and_files_are_groups_in_order() -> None:
    lines = _table(sample_report()).splitlines()
    headers = [line for line in lines if line and not line.startswith(" ")]
    assert headers[:6] == ["/abs/dir with space/pod.yaml", "<stdin>", "Dockerfile", "k8s/deploy.yaml",
                           "k8s/rbac.yaml", "Problems"]
    rows = [line for line in lines[:lines.index("Problems")] if line.startswith("  ")]
    assert len(rows) == 6
    # The rule id column starts at the same offset on every row.
    offsets = {row.index(rule) for row in rows for rule in ("pod.privileged", "pod.run-as-non-root",
                                                            "rbac.wildcard-verbs", "dockerfile.user-root")
               if rule in row.split()}
    assert len(offsets) == 1


def test_finding_without_resource_or_line_shows_dashes() -> None:
    rep = report((finding(PRIVILEGED, "Dockerfile", None, message="m"),))
    assert "  -  CRITICAL  pod.privileged  -  m\n" in _table(rep)


def test_summary_line_counts_active_findings_and_suppressed_ones() -> None:
    assert ("4 findings (2 critical, 1 high, 0 medium, 1 low, 0 info), 2 suppressed, in 7 files / 9 resources\n"
            "2 errors (results are incomplete), 1 warning, 1 skipped\n") in _table(sample_report())


def test_suppressed_finding_shows_reason_and_expiry() -> None:
    sup = Suppression(SuppressionSource.INLINE, "legacy", dt.date(2030, 1, 31))
    rep = report((finding(RUN_AS_NON_ROOT, "a.yaml", 3, message="m", suppressed=sup),))
    out = _table(rep)
    assert "m (suppressed: legacy, expires 2030-01-31)" in out
    assert out.endswith("0 findings (0 critical, 0 high, 0 medium, 0 low, 0 info), 1 suppressed, "
                        "in 1 file / 1 resource\n")


def test_suppressed_finding_without_reason() -> None:
    sup = Suppression(SuppressionSource.CONFIG)
    rep = report((finding(RUN_AS_NON_ROOT, "a.yaml", 3, message="m", suppressed=sup),))
    assert "m (suppressed)\n" in _table(rep)


def test_problems_come_after_the_findings() -> None:
    out = _table(sample_report())
    problems = out.index("Problems\n")
    assert out.index("k8s/rbac.yaml") < problems
    assert "  error  k8s/bad.yaml:3:5: mapping values are not allowed here [input]\n" in out[problems:]
    assert ("  error  k8s/deploy.yaml:1: rule pod.privileged crashed: KeyError 'spec' "
            "[rule pod.privileged, Deployment/prod/web]\n") in out[problems:]
    assert "  warn   .cloudward.yaml:4: exception for pod.privileged expired on 2024-01-31 [warning]\n" in out
    assert "logo.png" not in out  # skip notes are only counted


def test_no_colour_codes_unless_asked() -> None:
    assert ESC not in _table(sample_report())


def test_colour_marks_severity_and_dims_suppressed_findings() -> None:
    sup = Suppression(SuppressionSource.INLINE, "ok")
    rep = report((
        finding(PRIVILEGED, "a.yaml", 1, message="active"),
        finding(RUN_AS_NON_ROOT, "a.yaml", 2, message="quiet", suppressed=sup),
    ))
    lines = _table(rep, color=True).splitlines()
    active = next(line for line in lines if "active" in line)
    quiet = next(line for line in lines if "quiet" in line)
    assert "\x1b[1;31mCRITICAL" in active  # bold red critical
    assert quiet.startswith("\x1b[2m") and quiet.endswith("\x1b[0m")
    assert "\x1b[33m" not in quiet  # a suppressed finding's severity is not highlighted


def test_hostile_text_cannot_inject_terminal_sequences() -> None:
    rep = report(
        (finding(PRIVILEGED, "evil\x1b]0;title\x07.yaml", 1, message="x\x1b[2J\rhidden\u202egnp.exe", resource=WEB),),
        problems=(Problem(ProblemKind.INPUT, "bad\x1b[31m", file="p.yaml"),),
    )
    out = _table(rep)
    assert ESC not in out
    assert "\r" not in out
    assert "\u202e" not in out
    assert "x\\x1b[2J\\rhidden\\u202egnp.exe" in out
    assert "evil\\x1b]0;title\\x07.yaml" in out


def test_terminal_safe_keeps_printable_unicode() -> None:
    assert terminal_safe("café ✓ 容器") == "café ✓ 容器"
    assert terminal_safe("a\nb\tc\x7f\x85") == "a\\nb\\tc\\x7f\\x85"
    assert terminal_safe("caf\udce9.yaml") == "caf\\udce9.yaml"


def test_empty_report_is_just_the_summary() -> None:
    assert _table(report(files=0, resources=0)) == (
        "0 findings (0 critical, 0 high, 0 medium, 0 low, 0 info), 0 suppressed, in 0 files / 0 resources\n"
    )
