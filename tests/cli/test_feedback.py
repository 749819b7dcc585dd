"""Tests of ``dynamics-stats feedback`` through ``main`` (tmp DYNAMICS_STATS_HOME)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from dynamics_stats import validate_run
from dynamics_stats.cli import main
from dynamics_stats.io.synthetic import make_run

EXAMPLE = Path(__file__).resolve().parents[2] / "dynamics_stats" / "examples" / "digits_overfit"


def write_lightning_csv(
    folder: Path, *, kind: str | None, seed: int, loss_scale: float = 1.0
) -> Path:
    """Write a synthetic run as a Lightning ``metrics.csv`` and return its folder."""
    run = make_run(kind, seed=seed, n_steps=300, loss_scale=loss_scale)[0]
    long = validate_run(run).to_frame()
    wide = long.pivot_table(index="step", columns="metric", values="value", aggfunc="last")
    wide = wide.reset_index()
    wide.insert(1, "epoch", 0)
    folder.mkdir(parents=True, exist_ok=True)
    wide.to_csv(folder / "metrics.csv", index=False)
    return folder


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private DYNAMICS_STATS_HOME, never the real one."""
    monkeypatch.setenv("DYNAMICS_STATS_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def test_label_the_bundled_example_and_see_it_in_the_summary(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = (EXAMPLE / "metrics.csv").read_bytes()
    code = main(["feedback", str(EXAMPLE), "--kind", "overfitting", "--present", "yes"])
    out = capsys.readouterr().out
    assert code == 0 and "overfitting=yes" in out and "raw score" in out
    assert (EXAMPLE / "metrics.csv").read_bytes() == before
    with sqlite3.connect(home / "feedback.sqlite") as db:
        rows = db.execute("SELECT kind, present, source_path FROM labels").fetchall()
    assert rows == [("overfitting", 1, rows[0][2])] and "digits_overfit" in rows[0][2]
    assert main(["feedback", "--summary"]) == 0
    out = capsys.readouterr().out
    assert "1 labelled runs, 1 labels" in out and "overfitting" in out


def test_import_a_labels_table(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_lightning_csv(tmp_path / "runs" / "s1", kind="stalled", seed=4)
    table = tmp_path / "runs" / "labels.csv"
    table.write_text(
        f"path,kind,present\ns1,stalled,yes\ns1,overfitting,no\n{EXAMPLE},overfitting,yes\n"
    )
    assert main(["feedback", "--import", str(table)]) == 0
    assert "stored 3 labels of 2 runs" in capsys.readouterr().out


def test_record_an_applied_recommendation_and_its_rate(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = write_lightning_csv(tmp_path / "a", kind="overfitting", seed=5)
    better = write_lightning_csv(tmp_path / "b", kind=None, seed=5, loss_scale=0.3)
    args = ["feedback", str(first), "--recommendation", "early_stop", "--applied", "yes"]
    assert main([*args, "--next-run", str(better)]) == 0
    out = capsys.readouterr().out
    assert "Next run improved: best val_loss" in out
    assert main([*args[:3], "lower_lr", "--applied", "no"]) == 0
    assert "unknown" in capsys.readouterr().out
    assert main(["feedback", "--summary"]) == 0
    out = capsys.readouterr().out
    assert "early_stop" in out and "1.00" in out and "lower_lr" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["feedback"], "got nothing"),
        (["feedback", "--summary", "--import", "x.csv"], "got import and summary"),
        (["feedback", "--kind", "stalled", "--present", "yes"], "needs the run's path"),
        (["feedback", str(EXAMPLE), "--kind", "stalled"], "needs both --kind and --present"),
        (["feedback", str(EXAMPLE), "--kind", "stall", "--present", "no"], "--kind must be one of"),
        (["feedback", str(EXAMPLE), "--kind", "stalled", "--present", "maybe"], "yes or no"),
        (["feedback", str(EXAMPLE), "--recommendation", "x"], "needs --recommendation and"),
        (["feedback", "--summary", "--next-run", "x"], "--next-run goes with"),
        (["feedback", "/nonexistent/run", "--kind", "stalled", "--present", "no"], "nonexistent"),
    ],
)
def test_bad_arguments_exit_2_with_a_message(
    home: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main(argv) == 2
    assert message in capsys.readouterr().err
    assert not (home / "feedback.sqlite").exists()
