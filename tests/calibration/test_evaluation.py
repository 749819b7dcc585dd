import numpy as np
import pytest

from dynamics_stats.calibration.evaluation import equal_mass_ece, evaluate_probabilities


def test_perfectly_calibrated_probabilities_have_small_ece(rng):
    p = rng.random(20000)
    y = (rng.random(20000) < p).astype(int)
    assert equal_mass_ece(p, y) < 0.02
    assert equal_mass_ece(np.clip(p + 0.2, 0, 1), y) > 0.1


def test_metrics_at_threshold_and_base_rate():
    p = np.array([0.9, 0.8, 0.2, 0.6, 0.1])
    y = np.array([1, 1, 1, 0, 0])
    m = evaluate_probabilities(p, y, raw_scores=np.array([5.0, 4.0, 1.0, 3.0, 0.0]))
    assert m.precision == pytest.approx(2 / 3) and m.recall == pytest.approx(2 / 3)
    assert m.f1 == pytest.approx(2 / 3)
    assert m.brier_base_rate == pytest.approx(0.24)
    assert m.brier == pytest.approx(np.mean((p - y) ** 2))
    assert m.raw_auc == pytest.approx(m.auc)
    assert np.isnan(evaluate_probabilities(p, np.ones(5)).auc)
