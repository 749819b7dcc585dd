"""Tests of the feedback store: labels, imports, outcomes, and where the store lives."""

from __future__ import annotations

import math
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dynamics_stats import load_run, validate_run
from dynamics_stats.calibration.feedback import (
    feedback_home,
    fingerprint,
    import_labels,
    outcome_summary,
    read_labels,
    record_label,
    record_outcome,
    score_run,
    store_path,
)
from dynamics_stats.core.errors import InputError, LoadError
from dynamics_stats.core.kinds import CORE_KINDS
from dynamics_stats.io.synthetic import make_run


def write_lightning_csv(kind: str | None, folder: Path, *, seed: int = 0) -> Path:
    """Write a synthetic run as a Lightning ``metrics.csv`` and return its path."""
    artifacts = validate_run(make_run(kind, seed=seed, n_steps=300)[0])
    long = artifacts.to_frame()
    wide = long.pivot_table(index="step", columns="metric", values="value", aggfunc="last")
    wide = wide.reset_index()
    wide.insert(1, "epoch", 0)
    folder.mkdir(parents=True, exist_ok=True)
    wide.to_csv(folder / "metrics.csv", index=False)
    return folder / "metrics.csv"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private DYNAMICS_STATS_HOME, never the real one."""
    monkeypatch.setenv("DYNAMICS_STATS_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.fixture(scope="module")
def overfit() -> object:
    return validate_run(make_run("overfitting", seed=0, n_steps=300)[0])


def test_store_lives_under_the_home_variable(home: Path) -> None:
    assert feedback_home() == home
    assert store_path() == home / "feedback.sqlite"
    assert store_path(home / "x.db") == home / "x.db"


def test_fingerprint_same_values_same_hash_and_changes_with_a_value(tmp_path: Path) -> None:
    path = write_lightning_csv("overfitting", tmp_path / "a")
    memory = validate_run(make_run("overfitting", seed=0, n_steps=300)[0])
    loaded = validate_run(load_run(path))
    assert fingerprint(loaded) == fingerprint(memory)
    frame = pd.read_csv(path)
    frame.loc[10, "train_loss_step"] += 1e-3
    frame.to_csv(tmp_path / "b.csv", index=False)
    assert fingerprint(validate_run(load_run(tmp_path / "b.csv"))) != fingerprint(loaded)


def test_record_label_keeps_every_kind_score_and_the_latest_verdict(home: Path, overfit) -> None:
    key = record_label(overfit, kind="overfitting", present=True)
    record_label(overfit, kind="stalled", present=False)
    record_label(overfit, kind="overfitting", present=False)
    labels = read_labels()
    assert set(labels["kind"]) == {"overfitting", "stalled"}
    assert (labels["fingerprint"] == key).all()
    assert labels.set_index("kind").loc["overfitting", "label"] == 0
    expected = score_run(overfit)
    assert labels.set_index("kind").loc["overfitting", "score"] == pytest.approx(
        expected["overfitting"]
    )
    with sqlite3.connect(home / "feedback.sqlite") as db:
        stored = dict(db.execute("SELECT kind, score FROM run_scores").fetchall())
        versions = db.execute("SELECT analyzer_version, calibration_version FROM labels").fetchone()
    assert set(stored) == set(CORE_KINDS)
    assert all(v is None or not math.isnan(v) for v in stored.values())
    assert versions[0] and ":" in versions[1]


def test_record_label_rejects_an_unknown_kind(home: Path, overfit) -> None:
    with pytest.raises(InputError, match="unknown problem kind 'overfit'.*overfitting"):
        record_label(overfit, kind="overfit", present=True)
    assert not (home / "feedback.sqlite").exists()


def test_import_labels_from_csv_with_relative_paths(home: Path, tmp_path: Path) -> None:
    write_lightning_csv("overfitting", tmp_path / "runs" / "a", seed=1)
    write_lightning_csv(None, tmp_path / "runs" / "b", seed=2)
    table = tmp_path / "runs" / "labels.csv"
    table.write_text(
        "path,kind,present,group\na/metrics.csv,overfitting,yes,\n"
        "b/metrics.csv,overfitting,no,family-b\nb/metrics.csv,stalled,0,family-b\n"
    )
    keys = import_labels(table)
    assert len(keys) == 3 and keys[1] == keys[2] != keys[0]
    labels = read_labels()
    assert sorted(labels["label"].tolist()) == [0, 0, 1]
    assert labels["run_group"].tolist() == [None, "family-b", "family-b"]
    assert np.isfinite(labels["score"]).all()


def test_import_labels_bad_rows_store_nothing(home: Path, tmp_path: Path) -> None:
    bad_present = pd.DataFrame({"path": ["x"], "kind": ["stalled"], "present": ["maybe"]})
    with pytest.raises(InputError, match="row 1: 'present' must be yes or no"):
        import_labels(bad_present)
    with pytest.raises(InputError, match="missing present"):
        import_labels(pd.DataFrame({"path": ["x"], "kind": ["stalled"]}))
    missing = pd.DataFrame({"path": [str(tmp_path / "nope")], "kind": ["stalled"], "present": [1]})
    with pytest.raises(LoadError, match="nope"):
        import_labels(missing)
    with pytest.raises(LoadError, match="cannot read the labels table"):
        import_labels(tmp_path / "absent.csv")
    assert read_labels().empty


def test_a_file_that_is_not_a_store_is_refused_and_left_alone(tmp_path: Path, overfit) -> None:
    other = tmp_path / "notes.sqlite"
    other.write_text("not a database, but the user's file " * 50)
    before = other.read_bytes()
    with pytest.raises(InputError, match="not a dynamics_stats feedback store"):
        record_label(overfit, kind="stalled", present=True, store=other)
    assert other.read_bytes() == before


def test_outcomes_rate_counts_applied_and_improved(home: Path) -> None:
    worse = validate_run(make_run("overfitting", seed=3, n_steps=300)[0])
    better = validate_run(make_run(None, seed=3, n_steps=300, loss_scale=0.5)[0])
    assert record_outcome(worse, action="early_stop", applied=True, next_run=better) is True
    assert record_outcome(better, action="early_stop", applied=True, next_run=worse) is False
    assert record_outcome(worse, action="lower_lr", applied=False) is None
    summary = outcome_summary()
    assert summary.rate("early_stop") == pytest.approx(0.5)
    assert summary.rate() == pytest.approx(0.5)
    assert math.isnan(summary.rate("lower_lr"))
    assert dict((r[0], r[1:]) for r in summary.rows) == {
        "early_stop": (2, 2, 2, 1),
        "lower_lr": (1, 0, 0, 0),
    }
    text = summary.summary()
    assert "early_stop" in text and "0.50" in text


def test_empty_outcome_summary_has_no_rate(home: Path) -> None:
    summary = outcome_summary()
    assert summary.rows == () and math.isnan(summary.rate())
    assert "all" in summary.summary()
