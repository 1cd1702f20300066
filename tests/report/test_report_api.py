"""The public surface of cloudward.report and what holds for every format."""

from __future__ import annotations

import dataclasses

import pytest

import cloudward.report
from cloudward.core.model import Problem, ProblemKind
from cloudward.report import ReportFormat, render, render_bytes
from tests.report.reportkit import report, sample_report


def test_public_names_are_pinned() -> None:
    assert cloudward.report.__all__ == ["ReportFormat", "render", "render_bytes"]


@pytest.mark.parametrize("fmt", list(ReportFormat))
def test_render_bytes_is_the_utf8_of_render(fmt: ReportFormat) -> None:
    rep = sample_report()
    assert render_bytes(rep, fmt) == render(rep, fmt).encode("utf-8")


def test_report_format_values_are_what_users_type() -> None:
    assert [f.value for f in ReportFormat] == ["table", "json", "sarif", "junit"]
    assert str(ReportFormat.SARIF) == "sarif"


def test_render_accepts_a_format_name_as_plain_string() -> None:
    rep = sample_report()
    assert render(rep, "json") == render(rep, ReportFormat.JSON)  # type: ignore[arg-type]


def test_render_rejects_an_unknown_format_name() -> None:
    with pytest.raises(ValueError, match="html"):
        render(sample_report(), "html")  # type: ignore[arg-type]


@pytest.mark.parametrize("fmt", list(ReportFormat))
def test_output_does_not_depend_on_input_order(fmt: ReportFormat) -> None:
    rep = sample_report()
    shuffled = dataclasses.replace(rep, findings=rep.findings[::-1], problems=rep.problems[::-1],
                                   rules=rep.rules[::-1])
    assert render(rep, fmt) == render(shuffled, fmt)


@pytest.mark.parametrize("fmt", [ReportFormat.JSON, ReportFormat.SARIF, ReportFormat.JUNIT])
def test_color_changes_only_the_table(fmt: ReportFormat) -> None:
    rep = sample_report()
    out = render(rep, fmt, color=True)
    assert out == render(rep, fmt, color=False)
    assert "\x1b" not in out


@pytest.mark.parametrize("fmt", list(ReportFormat))
def test_every_format_ends_with_a_newline(fmt: ReportFormat) -> None:
    assert render(sample_report(), fmt).endswith("\n")


@pytest.mark.parametrize("fmt", list(ReportFormat))
@pytest.mark.parametrize("kind", list(ProblemKind))
def test_every_problem_kind_renders_in_every_format(fmt: ReportFormat, kind: ProblemKind) -> None:
    rep = report(problems=(Problem(kind, "something happened", file="f.yaml", line=2),))
    assert render(rep, fmt)
