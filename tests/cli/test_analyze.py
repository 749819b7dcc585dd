"""Tests of ``dynamics-stats analyze`` output formats (text, html) and --out checks."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

import dynamics_stats.agent.analyze as agent_analyze
from dynamics_stats.cli import main

EXAMPLE = Path(__file__).resolve().parents[2] / "dynamics_stats" / "examples" / "digits_overfit"


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    """A private copy of the bundled example run."""
    return Path(shutil.copytree(EXAMPLE, tmp_path / "run"))


def test_html_report_is_written_once_and_not_into_the_run(
    run_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = []
    original = agent_analyze.analyze_in_detail

    def counted(*args: object, **kwargs: object) -> object:
        calls.append(1)
        return original(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(agent_analyze, "analyze_in_detail", counted)
    before = sorted(p.name for p in run_dir.iterdir())
    out = tmp_path / "report.html"
    assert main(["analyze", str(run_dir), "--format", "html", "--out", str(out)]) == 0
    assert len(calls) == 1
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and page.count("<svg") >= 4
    assert capsys.readouterr().out == ""
    assert sorted(p.name for p in run_dir.iterdir()) == before


def test_html_needs_out(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", str(run_dir), "--format", "html"]) == 2
    assert "--out FILE" in capsys.readouterr().err


@pytest.mark.parametrize("where", ["missing/report.html", "."])
def test_bad_out_path_is_an_input_error(
    run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], where: str
) -> None:
    out = tmp_path / where
    assert main(["analyze", str(run_dir), "--format", "html", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert str(out) in err and "Traceback" not in err


def test_text_report_has_no_colour_when_not_a_terminal(
    run_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["analyze", str(run_dir)]) == 0
    out = capsys.readouterr()
    assert "\x1b[" not in out.out and "\x1b[" not in out.err
    assert out.out.startswith(("Probable:", "No problem is probable"))
    assert max(len(line) for line in out.out.splitlines()) <= 100
    assert re.search(r"^  overfitting +\d\.\d\d", out.out, re.MULTILINE)
