import json

import numpy as np
import pytest

from dynamics_stats import InputError, NotFittedError
from dynamics_stats.calibration.maps import CalibrationMap, calibrator_from_dict
from dynamics_stats.calibration.multi import MultiScoreCalibrator
from dynamics_stats.core.results import CalibrationInfo


def _data(rng, n=800):
    labels = rng.integers(0, 2, n)
    own = np.where(labels == 1, rng.gamma(3.0, 1.0, n), rng.gamma(1.0, 1.0, n))
    # a look-alike: the other score is high exactly when the own score fires for another reason
    other = np.where((labels == 0) & (own > 2), rng.gamma(5.0, 1.0, n), rng.gamma(1.0, 0.2, n))
    return np.column_stack([own, other]), labels


def test_other_scores_help_and_probabilities_stay_in_unit_interval(rng):
    x, y = _data(rng)
    cal = MultiScoreCalibrator(kinds=("own", "other")).fit(x, y)
    p = cal.predict(x)
    assert np.all((p >= 0) & (p <= 1))
    assert cal.coef_[0] > 0 > cal.coef_[1]


def test_missing_kinds_count_as_zero_and_maps_use_all_scores(rng):
    x, y = _data(rng)
    cal = MultiScoreCalibrator(kinds=("own", "other")).fit(x, y)
    assert cal.predict_mapping({"own": 3.0}) == pytest.approx(
        cal.predict_mapping({"own": 3.0, "other": 0.0})
    )
    info = CalibrationInfo(name="t", version="1", calibrated=True, description="test")
    cmap = CalibrationMap(info=info, calibrators={"own": cal})
    alone = cmap.probability("own", 3.0)
    with_other = cmap.probability("own", 3.0, all_scores={"other": 8.0})
    assert with_other < alone


def test_json_round_trip(rng):
    cal = MultiScoreCalibrator(kinds=("own", "other")).fit(*_data(rng))
    copy = calibrator_from_dict(json.loads(json.dumps(cal.to_dict())))
    x, _ = _data(rng, 50)
    np.testing.assert_allclose(copy.predict(x), cal.predict(x))


def test_errors():
    with pytest.raises(NotFittedError):
        MultiScoreCalibrator(kinds=("a",)).predict(np.ones((1, 1)))
    with pytest.raises(InputError, match="one column per kind"):
        MultiScoreCalibrator(kinds=("a", "b")).fit(np.ones((4, 3)), np.array([0, 1, 0, 1]))
