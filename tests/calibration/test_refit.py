"""Tests of the refit on corpus scores plus user labels, and of the user's map files."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dynamics_stats.calibration._store import connect
from dynamics_stats.calibration.maps import (
    load_map,
    remove_user_map,
    user_map_path,
    write_user_map,
)
from dynamics_stats.calibration.refit import load_corpus_scores, refit_with_feedback
from dynamics_stats.calibration.selection import CANDIDATES
from dynamics_stats.core.errors import InputError, LoadError
from dynamics_stats.core.kinds import CORE_KINDS


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private DYNAMICS_STATS_HOME, never the real one."""
    monkeypatch.setenv("DYNAMICS_STATS_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("DYNAMICS_STATS_USER_MAPS", raising=False)
    return tmp_path / "home"


def corpus_frame(n_runs: int, seed: int) -> pd.DataFrame:
    """Wide corpus scores where each kind's score is larger when the kind is present."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"run": np.arange(n_runs), "group": np.arange(n_runs) // 2})
    for kind in CORE_KINDS:
        label = rng.random(n_runs) < 0.3
        frame[f"label_{kind}"] = label.astype(int)
        frame[f"score_{kind}"] = np.where(
            label, rng.gamma(4.0, 0.6, n_runs), rng.gamma(1.0, 0.3, n_runs)
        )
    return frame


def store_user_labels(
    kind: str, scores: np.ndarray, labels: np.ndarray, groups: list[str] | None = None
) -> None:
    """Put labelled user runs straight into the store (as `record_label` lays them out)."""
    groups = groups or [None] * len(scores)
    with connect(None) as db:
        for index, (score, label) in enumerate(zip(scores, labels, strict=True)):
            key = f"run{index:04d}"
            for other in CORE_KINDS:
                value = float(score) if other == kind else 0.0
                db.execute("INSERT INTO run_scores VALUES (?, ?, ?)", (key, other, value))
            db.execute(
                "INSERT INTO labels (fingerprint, kind, present, run_group, created) "
                "VALUES (?, ?, ?, ?, ?)",
                (key, kind, int(label), groups[index], "2026-11-27"),
            )


def test_load_corpus_scores_reads_long_and_wide_alike(tmp_path: Path) -> None:
    wide = corpus_frame(20, seed=1)
    wide.to_csv(tmp_path / "wide.csv", index=False)
    long = pd.concat(
        pd.DataFrame(
            {
                "run": wide["run"],
                "group": wide["group"],
                "kind": kind,
                "score": wide[f"score_{kind}"],
                "label": wide[f"label_{kind}"],
            }
        )
        for kind in CORE_KINDS
    )
    long.to_csv(tmp_path / "long.csv", index=False)
    from_wide, from_long = (
        load_corpus_scores(tmp_path / "wide.csv"),
        load_corpus_scores(tmp_path / "long.csv"),
    )
    columns = [f"score_{k}" for k in CORE_KINDS] + [f"label_{k}" for k in CORE_KINDS]
    assert np.allclose(from_wide[columns].to_numpy(), from_long[columns].to_numpy())
    assert from_wide["group"].str.startswith("corpus:").all()
    assert from_wide["group"].nunique() == 10
    wide.drop(columns="score_stalled").to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(LoadError, match="lack the columns score_stalled"):
        load_corpus_scores(tmp_path / "bad.csv")


def test_refit_without_labels_says_how_to_label(home: Path) -> None:
    with pytest.raises(InputError, match="no labels yet.*dynamics-stats feedback"):
        refit_with_feedback(corpus=corpus_frame(40, seed=0))


def test_refit_learns_the_users_runs_and_reports_held_out_gain(home: Path) -> None:
    rng = np.random.default_rng(7)
    # On these user runs the problem is present only at scores far above where the
    # corpus (and so the refit's prior knowledge) puts it: the shipped map over-calls.
    scores = rng.uniform(0.0, 12.0, 60)
    labels = (scores > 8.0).astype(int)
    store_user_labels("divergence", scores, labels)
    result = refit_with_feedback(corpus=corpus_frame(120, seed=3), user_weight=5.0)
    record = {r.kind: r for r in result.kinds}["divergence"]
    assert (record.n_user, record.n_user_positive) == (60, int(labels.sum()))
    assert record.method in CANDIDATES
    assert record.after.log_loss < record.before.log_loss
    estimate, low, high = record.log_loss_gain
    assert low <= estimate <= high and low > 0
    shipped = load_map("shipped", kinds=CORE_KINDS)
    for kind in CORE_KINDS:
        if kind != "divergence":
            assert result.cmap.calibrators[kind].to_dict() == shipped.calibrators[kind].to_dict()
    assert result.cmap.info.name.startswith("user-") and shipped.info.name in result.cmap.info.name
    assert "divergence" in result.summary() and "interval is wide" in result.summary()


def test_few_labels_give_a_wide_interval(home: Path) -> None:
    store_user_labels("stalled", np.array([0.1, 3.0, 0.2, 2.5]), np.array([0, 1, 1, 0]))
    record = {r.kind: r for r in refit_with_feedback(corpus=corpus_frame(80, seed=4)).kinds}
    _, low, high = record["stalled"].log_loss_gain
    assert high - low > 0.2
    assert record["overfitting"].n_user == 0 and record["overfitting"].after is None


def test_user_map_is_used_until_turned_off_or_reset(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shipped = load_map(kinds=CORE_KINDS)
    store_user_labels("stalled", np.linspace(0, 4, 20), (np.linspace(0, 4, 20) > 2).astype(int))
    result = refit_with_feedback(corpus=corpus_frame(80, seed=5))
    path = write_user_map(result.cmap)
    assert path == user_map_path() == home / "calibration" / "user.json"
    assert load_map(kinds=CORE_KINDS).info.name == result.cmap.info.name
    assert load_map("shipped", kinds=CORE_KINDS).info == shipped.info
    monkeypatch.setenv("DYNAMICS_STATS_USER_MAPS", "off")
    assert load_map(kinds=CORE_KINDS).info == shipped.info
    monkeypatch.delenv("DYNAMICS_STATS_USER_MAPS")
    probability = load_map(kinds=CORE_KINDS).probability("stalled", 3.0)
    assert probability is not None and 0.0 <= probability <= 1.0 and not math.isnan(probability)
    assert remove_user_map() == path and not path.exists()
    assert remove_user_map() is None
    assert load_map(kinds=CORE_KINDS).info == shipped.info


def test_a_broken_user_map_fails_loudly_with_the_fix(home: Path) -> None:
    user_map_path().parent.mkdir(parents=True)
    user_map_path().write_text(json.dumps({"info": {}}))
    with pytest.raises(LoadError, match="calibrate --reset"):
        load_map(kinds=CORE_KINDS)


def test_run_groups_are_never_split_between_fit_and_test(home: Path) -> None:
    scores = np.linspace(0.0, 4.0, 12)
    labels = (scores > 2.0).astype(int)
    store_user_labels("stalled", scores, labels, groups=["seeds-of-a"] * 12)
    record = {r.kind: r for r in refit_with_feedback(corpus=corpus_frame(60, seed=6)).kinds}
    assert record["stalled"].n_user == 12 and record["stalled"].before is not None
    assert record["stalled"].after is None  # one family: nothing can be held out
    assert math.isnan(record["stalled"].log_loss_gain[0])
