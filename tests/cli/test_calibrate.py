"""Tests of ``dynamics-stats calibrate`` through ``main`` (tmp DYNAMICS_STATS_HOME)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dynamics_stats.calibration._store import connect
from dynamics_stats.cli import main
from dynamics_stats.core.kinds import CORE_KINDS

EXAMPLE = Path(__file__).resolve().parents[2] / "dynamics_stats" / "examples" / "digits_overfit"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private DYNAMICS_STATS_HOME, never the real one."""
    monkeypatch.setenv("DYNAMICS_STATS_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("DYNAMICS_STATS_USER_MAPS", raising=False)
    return tmp_path / "home"


def write_corpus(path: Path, *, n_runs: int = 80, seed: int = 0) -> Path:
    """Write wide corpus scores where a kind's score is larger when the kind is present."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"run": np.arange(n_runs)})
    for kind in CORE_KINDS:
        label = rng.random(n_runs) < 0.3
        frame[f"label_{kind}"] = label.astype(int)
        frame[f"score_{kind}"] = np.where(
            label, rng.gamma(4.0, 0.6, n_runs), rng.gamma(1.0, 0.3, n_runs)
        )
    frame.to_csv(path, index=False)
    return path


def store_labels(kind: str, scores: np.ndarray, labels: np.ndarray) -> None:
    """Put labelled user runs straight into the store, as `record_label` lays them out."""
    with connect(None) as db:
        for index, (score, label) in enumerate(zip(scores, labels, strict=True)):
            for other in CORE_KINDS:
                value = float(score) if other == kind else 0.0
                db.execute("INSERT INTO run_scores VALUES (?, ?, ?)", (f"r{index}", other, value))
            db.execute(
                "INSERT INTO labels (fingerprint, kind, present, created) VALUES (?, ?, ?, ?)",
                (f"r{index}", kind, int(label), "2026-11-27"),
            )


def test_without_labels_the_refit_says_how_to_label(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus = write_corpus(tmp_path / "corpus.csv")
    assert main(["calibrate", "--with-feedback", "--corpus", str(corpus)]) == 2
    assert "dynamics-stats feedback RUN --kind" in capsys.readouterr().err


def test_refit_prints_before_after_saves_maps_and_analyze_names_them(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus = write_corpus(tmp_path / "corpus.csv")
    scores = np.linspace(0.0, 4.0, 12)
    store_labels("stalled", scores, (scores > 2.0).astype(int))
    assert main(["calibrate", "--with-feedback", "--corpus", str(corpus)]) == 0
    out = capsys.readouterr().out
    assert "stalled" in out and "->" in out and "interval is wide" in out
    user = home / "calibration" / "user.json"
    name = json.loads(user.read_text())["info"]["name"]
    assert name.startswith("user-") and name in out
    assert main(["analyze", str(EXAMPLE), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["calibration"]["name"] == name
    assert main(["calibrate", "--reset"]) == 0
    assert "removed" in capsys.readouterr().out and not user.exists()


def test_dry_run_saves_nothing_and_reset_without_maps_is_fine(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus = write_corpus(tmp_path / "corpus.csv")
    store_labels("divergence", np.array([0.1, 5.0, 0.3, 4.0]), np.array([0, 1, 0, 1]))
    assert main(["calibrate", "--with-feedback", "--dry-run", "--corpus", str(corpus)]) == 0
    assert "not saved" in capsys.readouterr().out
    assert not (home / "calibration" / "user.json").exists()
    assert main(["calibrate", "--reset"]) == 0
    assert "no user maps" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["calibrate", "--with-feedback", "--user-weight", "0"], "--user-weight must be > 0"),
        (["calibrate", "--with-feedback", "--corpus", "/nonexistent.csv"], "nonexistent.csv"),
    ],
)
def test_bad_arguments_exit_2(
    home: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    store_labels("stalled", np.array([0.1, 3.0]), np.array([0, 1]))
    assert main(argv) == 2
    assert message in capsys.readouterr().err
