"""`select_calibrator`: grouped CV selection, held-out record, and a committed refit slice.

``tests/data/calibration_slice.csv`` holds the raw scores and labels of 240 synthetic runs;
``calibration_slice_expected.json`` the maps this selection chose and fitted on it. Regenerate
it (after an intended change of the selection) with ``python tests/calibration/test_selection.py``.
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dynamics_stats import InputError
from dynamics_stats.calibration.maps import calibrator_from_dict
from dynamics_stats.calibration.selection import select_calibrator
from dynamics_stats.detectors import CORE_KINDS

DATA = Path(__file__).parents[1] / "data"
SLICE = DATA / "calibration_slice.csv"
EXPECTED = DATA / "calibration_slice_expected.json"


def _slice_fits() -> dict[str, dict]:
    frame = pd.read_csv(SLICE)
    scores = frame[[f"score_{k}" for k in CORE_KINDS]].to_numpy(float)
    out = {}
    for column, kind in enumerate(CORE_KINDS):
        keep = np.isfinite(scores[:, column])
        selection = select_calibrator(
            scores[keep],
            frame.loc[keep, f"label_{kind}"].to_numpy(int),
            frame.loc[keep, "group"].to_numpy(),
            own_column=column,
            kinds=tuple(CORE_KINDS),
        )
        out[kind] = selection.calibrator.to_dict()
    return out


def _toy(rng, n=400, n_groups=80):
    groups = rng.integers(0, n_groups, n)
    labels = (rng.random(n) < 0.3).astype(int)
    scores = np.where(labels == 1, rng.gamma(4.0, 1.0, n), rng.gamma(1.0, 0.5, n))
    return scores, labels, groups


def test_refit_on_committed_slice_reproduces_expected_maps():
    expected = json.loads(EXPECTED.read_text())
    fitted = _slice_fits()
    grid = np.linspace(0, 20, 81)
    for kind in CORE_KINDS:
        assert fitted[kind]["method"] == expected[kind]["method"], kind
        ours, theirs = calibrator_from_dict(fitted[kind]), calibrator_from_dict(expected[kind])
        x = grid if fitted[kind]["method"] != "multi" else np.tile(grid[:, None], (1, 7))
        np.testing.assert_allclose(ours.predict(x), theirs.predict(x), atol=1e-6)


def test_out_of_fold_probabilities_never_see_their_own_group(rng):
    # 60 groups of 5 identical rows with a random label: only memorising a group predicts it,
    # so held-out AUC stays near 0.5 unless rows of one group leak across folds
    group_scores, group_labels = rng.random(60), rng.integers(0, 2, 60)
    groups = np.repeat(np.arange(60), 5)
    selection = select_calibrator(
        group_scores[groups],
        group_labels[groups],
        groups,
        candidates=("isotonic",),
        min_isotonic_class=1,
    )
    assert selection.metrics.auc < 0.75


def test_selection_prefers_lowest_held_out_log_loss(rng):
    scores, labels, groups = _toy(rng)
    selection = select_calibrator(scores, labels, groups, candidates=("platt", "isotonic"))
    p = selection.out_of_fold
    assert p.shape == labels.shape and np.all((p >= 0) & (p <= 1))
    assert selection.metrics.auc > 0.85
    assert dict(selection.candidate_log_loss)[selection.method] == min(
        dict(selection.candidate_log_loss).values()
    )


def test_isotonic_needs_enough_of_both_classes(rng):
    scores, labels, groups = _toy(rng, n=120)
    names = dict(
        select_calibrator(scores, labels, groups, min_isotonic_class=1000).candidate_log_loss
    )
    assert "isotonic" not in names and {"platt", "beta"} <= set(names)


def test_multi_is_tried_only_with_named_columns(rng):
    scores, labels, groups = _toy(rng)
    two = np.column_stack([scores, rng.random(len(scores))])
    without = dict(select_calibrator(two, labels, groups).candidate_log_loss)
    named = dict(select_calibrator(two, labels, groups, kinds=("a", "b")).candidate_log_loss)
    assert "multi" not in without and "multi" in named


def test_errors(rng):
    scores, labels, groups = _toy(rng)
    with pytest.raises(InputError, match="both classes"):
        select_calibrator(scores, np.zeros_like(labels), groups)
    with pytest.raises(InputError, match="one row per label"):
        select_calibrator(scores[:-1], labels, groups)
    with pytest.raises(InputError, match="at least 2 groups"):
        select_calibrator(scores, labels, np.zeros_like(groups))


if __name__ == "__main__":
    EXPECTED.write_text(json.dumps(_slice_fits(), indent=1) + "\n")
