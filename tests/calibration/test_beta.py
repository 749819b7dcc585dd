import json

import numpy as np
import pytest

from dynamics_stats import InputError, NotFittedError
from dynamics_stats.calibration.beta import BetaCalibrator


def _data(rng, n=600):
    labels = rng.integers(0, 2, n)
    scores = np.where(labels == 1, rng.gamma(4.0, 1.0, n), rng.gamma(1.0, 0.5, n))
    return scores, labels


def test_map_is_monotone_and_in_unit_interval(rng):
    cal = BetaCalibrator().fit(*_data(rng))
    grid = np.concatenate([[-1.0, np.nan], np.linspace(0, 300, 400)])
    p = cal.predict(grid)
    assert np.all((p >= 0) & (p <= 1))
    assert np.all(np.diff(p[2:]) >= 0)
    assert min(cal.coef_) >= 0


def test_held_out_frequencies_match(rng):
    scores, labels = _data(rng, 6000)
    cal = BetaCalibrator().fit(scores[:3000], labels[:3000])
    p, y = cal.predict(scores[3000:]), labels[3000:]
    for chunk in np.array_split(np.argsort(p), 10):
        assert abs(p[chunk].mean() - y[chunk].mean()) < 0.08


def test_weights_shift_the_prior(rng):
    scores, labels = _data(rng)
    weights = np.where(labels == 1, 3.0, 1.0)
    plain = BetaCalibrator().fit(scores, labels)
    weighted = BetaCalibrator().fit(scores, labels, sample_weight=weights)
    assert weighted.base_rate_ > plain.base_rate_
    assert weighted.predict(np.array([1.0]))[0] > plain.predict(np.array([1.0]))[0]


def test_json_round_trip(rng):
    cal = BetaCalibrator().fit(*_data(rng))
    copy = BetaCalibrator.from_dict(json.loads(json.dumps(cal.to_dict())))
    grid = np.linspace(0, 10, 11)
    np.testing.assert_allclose(copy.predict(grid), cal.predict(grid))


def test_errors():
    with pytest.raises(NotFittedError):
        BetaCalibrator().predict(np.array([1.0]))
    with pytest.raises(InputError, match="both classes"):
        BetaCalibrator().fit(np.array([1.0, 2.0]), np.array([0, 0]))
