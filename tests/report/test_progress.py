"""Tests of the terminal stage indicator."""

from __future__ import annotations

import io
from pathlib import Path

from dynamics_stats.report._progress import StageProgress, input_bytes


class _FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_silent_when_not_a_terminal() -> None:
    stream = io.StringIO()
    progress = StageProgress(stream, 2)
    progress.stage("reading")
    progress.close()
    assert stream.getvalue() == ""


def test_silent_when_disabled_even_on_a_terminal() -> None:
    stream = _FakeTerminal()
    progress = StageProgress(stream, 2, enabled=False)
    progress.stage("reading")
    assert stream.getvalue() == ""


def test_counts_stages_on_a_terminal_and_erases_the_line() -> None:
    stream = _FakeTerminal()
    progress = StageProgress(stream, 2)
    progress.stage("reading")
    progress.stage("analysing")
    progress.close()
    output = stream.getvalue()
    assert "[1/2] reading..." in output and "[2/2] analysing..." in output
    assert output.endswith("\r\x1b[K")


def test_input_bytes_of_file_folder_and_uri(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_bytes(b"x" * 100)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.csv").write_bytes(b"y" * 50)
    assert input_bytes(tmp_path / "a.csv") == 100
    assert input_bytes(tmp_path) == 150
    assert input_bytes("runs:/abc") == 0
