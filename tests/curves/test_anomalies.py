import numpy as np

from dynamics_stats.core.config import AnomalyConfig
from dynamics_stats.curves import score_grad_norms


def test_injected_spikes_are_flagged_and_scored_high(make_series, rng):
    norms = np.exp(rng.normal(0, 0.2, 3000))
    spikes = [500, 1500, 2500]
    norms[spikes] *= 30
    result = score_grad_norms(make_series(norms, role="grad_norm"), config=AnomalyConfig())
    assert result.is_anomaly[spikes].all()
    assert result.scores[spikes].min() > np.quantile(result.scores, 0.99)
    assert result.features[0] == "log_norm"


def test_deterministic_and_too_short(make_series, rng):
    norms = np.exp(rng.normal(0, 0.2, 500))
    a = score_grad_norms(make_series(norms), config=AnomalyConfig())
    b = score_grad_norms(make_series(norms), config=AnomalyConfig())
    np.testing.assert_array_equal(a.scores, b.scores)
    assert score_grad_norms(make_series(norms[:10]), config=AnomalyConfig()) is None
