import json

import numpy as np
import pytest

from dynamics_stats import LoadError
from dynamics_stats.calibration import (
    CalibrationMap,
    IsotonicCalibrator,
    PlattCalibrator,
    load_map,
    provisional_map,
)
from dynamics_stats.detectors import CORE_KINDS

GRID = np.concatenate([np.linspace(-1, 5, 200), [10.0, 100.0, 1e6]])


def test_shipped_map_covers_every_kind_and_is_monotone():
    cmap = load_map(kinds=CORE_KINDS)
    assert set(cmap.calibrators) == set(CORE_KINDS)
    for kind in CORE_KINDS:
        calibrator = cmap.calibrators[kind]
        kinds = getattr(calibrator, "kinds", ())
        if kinds:  # a model over several kinds' scores: monotone in its own kind's score
            scores = np.zeros((len(GRID), len(kinds)))
            scores[:, kinds.index(kind)] = GRID
            p = calibrator.predict(scores)
        else:
            p = calibrator.predict(GRID)
        assert np.all((p >= 0) & (p <= 1)), kind
        assert np.all(np.diff(p) >= -1e-12), kind
        assert 0 < cmap.prior(kind) < 1


def test_shipped_map_says_what_it_was_fitted_on():
    cmap = load_map(kinds=CORE_KINDS)
    if cmap.info.calibrated:
        assert cmap.corpus_hash and cmap.created
        assert "synthetic" in cmap.info.description


def test_map_json_round_trip(tmp_path, rng):
    scores = np.concatenate([rng.gamma(1, 0.5, 300), rng.gamma(4, 1, 300)])
    labels = np.repeat([0, 1], 300)
    original = CalibrationMap(
        info=provisional_map(CORE_KINDS).info,
        calibrators={
            "divergence": PlattCalibrator().fit(scores, labels),
            "stalled": IsotonicCalibrator().fit(scores, labels),
        },
    )
    path = tmp_path / "map.json"
    path.write_text(json.dumps(original.to_dict()))
    loaded = load_map(path)
    for kind in ("divergence", "stalled"):
        np.testing.assert_allclose(
            loaded.calibrators[kind].predict(GRID), original.calibrators[kind].predict(GRID)
        )


def test_unreadable_map_names_the_file(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text("{")
    with pytest.raises(LoadError, match="broken.json"):
        load_map(path)


def test_isotonic_keeps_away_from_certainty(rng):
    cal = IsotonicCalibrator().fit(np.arange(100.0), (np.arange(100) > 50).astype(int))
    p = cal.predict(np.array([-5.0, 500.0]))
    assert p[0] == pytest.approx(0.005) and p[1] == pytest.approx(0.995)
