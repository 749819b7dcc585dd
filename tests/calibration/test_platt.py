import json

import numpy as np
import pytest

from dynamics_stats import InputError, NotFittedError
from dynamics_stats.calibration import PlattCalibrator


def _data(rng, n=400):
    labels = rng.integers(0, 2, n)
    scores = np.where(labels == 1, rng.gamma(4.0, 1.0, n), rng.gamma(1.0, 0.5, n))
    return scores, labels


def test_fitted_map_is_monotone_and_in_unit_interval(rng):
    cal = PlattCalibrator().fit(*_data(rng))
    grid = np.linspace(-5, 50, 200)
    p = cal.predict(grid)
    assert np.all((p >= 0) & (p <= 1))
    assert np.all(np.diff(p) >= 0)


def test_probabilities_track_frequencies_on_held_out_data(rng):
    scores, labels = _data(rng, 4000)
    cal = PlattCalibrator().fit(scores[:2000], labels[:2000])
    p = cal.predict(scores[2000:])
    y = labels[2000:]
    # Within deciles of predicted probability, the observed rate is close to the mean prediction.
    order = np.argsort(p)
    for chunk in np.array_split(order, 10):
        assert abs(p[chunk].mean() - y[chunk].mean()) < 0.1


def test_json_round_trip_reproduces_predictions(rng):
    cal = PlattCalibrator().fit(*_data(rng))
    copy = PlattCalibrator.from_dict(json.loads(json.dumps(cal.to_dict())))
    grid = np.linspace(0, 10, 11)
    np.testing.assert_allclose(copy.predict(grid), cal.predict(grid))


def test_errors():
    with pytest.raises(NotFittedError):
        PlattCalibrator().predict(np.array([1.0]))
    with pytest.raises(InputError, match="both classes"):
        PlattCalibrator().fit(np.array([1.0, 2.0]), np.array([1, 1]))
