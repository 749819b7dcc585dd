"""Tests of the terminal report `render_text` and `use_colour`."""

from __future__ import annotations

import io
import re

import pytest

from dynamics_stats.agent.analyze import AnalysisDetails
from dynamics_stats.core.kinds import CORE_KINDS
from dynamics_stats.report.render import render_text, use_colour

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class _FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_width_at_most_100_columns(spiky_details: AnalysisDetails) -> None:
    text = render_text(spiky_details.result)
    widths = [len(line) for line in text.splitlines()]
    assert max(widths) <= 100


def test_narrower_width_is_respected(spiky_details: AnalysisDetails) -> None:
    text = render_text(spiky_details.result, width=72)
    assert max(len(line) for line in text.splitlines()) <= 72


def test_sections_and_all_seven_kinds(spiky_details: AnalysisDetails) -> None:
    result = spiky_details.result
    lines = render_text(result).splitlines()
    assert lines[0].startswith(("Probable:", "No problem is probable"))
    for kind in CORE_KINDS:
        row = next(line for line in lines if line.strip().startswith(kind + " "))
        assert f"{result.probability(kind):.2f}" in row
    assert "Findings:" in lines and "Recommendations:" in lines
    spikes = next(f for f in result.findings if f.kind == "loss_spikes")
    assert any(
        line.strip().startswith("steps: ") and f"{spikes.steps[0]:,}" in line for line in lines
    )


def test_no_ansi_unless_asked(spiky_details: AnalysisDetails) -> None:
    plain = render_text(spiky_details.result)
    coloured = render_text(spiky_details.result, colour=True)
    assert not _ANSI.search(plain)
    assert _ANSI.search(coloured)
    assert _ANSI.sub("", coloured) == plain


def test_control_characters_from_the_log_are_escaped(
    spiky_details: AnalysisDetails,
) -> None:
    from dataclasses import replace

    result = spiky_details.result
    run = replace(result.run, source="runs/\x1b]0;owned\x07/x")
    text = render_text(replace(result, run=run))
    assert "\x1b" not in text and "\x07" not in text
    assert "\\x1b]0;owned\\x07" in text


def test_use_colour_needs_a_terminal_and_no_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert use_colour(_FakeTerminal())
    assert not use_colour(io.StringIO())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not use_colour(_FakeTerminal())
