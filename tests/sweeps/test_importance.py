"""Importance model: permutation importance and main-effect shares of known surfaces."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dynamics_stats.sweeps._encoding import encode_parameters
from dynamics_stats.sweeps.importance import estimate_importance


def test_additive_surface_shares_follow_the_true_variances(rng) -> None:
    n = 400
    frame = pd.DataFrame(
        {"a": rng.uniform(-1, 1, n), "b": rng.uniform(-1, 1, n), "c": rng.uniform(-1, 1, n)}
    )
    # Var(2a) = 4/3, Var(b) = 1/3, c inert: true main-effect shares 0.8, 0.2, 0.
    y = 2 * frame["a"].to_numpy() + frame["b"].to_numpy() + rng.normal(0, 0.05, n)
    params, _ = encode_parameters(frame)
    estimate = estimate_importance(params, y, alpha=0.05, seed=0, n_estimators=50)
    assert estimate is not None
    assert estimate.r2_heldout > 0.9
    share_a, share_b, share_c = estimate.variance_frac
    assert 0.6 < share_a < 0.95 and 0.1 < share_b < 0.35 and share_c < 0.02
    assert estimate.importance[0] > estimate.importance[1] > 0.1
    assert estimate.importance_interval[2, 0] < 0.01  # inert: interval reaches ~0
    assert np.all(estimate.importance_interval[:, 0] <= estimate.importance)


def test_too_few_runs_give_no_model(rng) -> None:
    params, _ = encode_parameters(pd.DataFrame({"a": rng.uniform(size=11)}))
    assert estimate_importance(params, rng.normal(size=11), alpha=0.05, seed=0) is None
