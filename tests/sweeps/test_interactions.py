"""Pairwise interactions: a product term is found, an additive surface has none."""

from __future__ import annotations

import pandas as pd

from dynamics_stats.sweeps._encoding import encode_parameters
from dynamics_stats.sweeps.importance import estimate_importance
from dynamics_stats.sweeps.interactions import find_interactions


def _interactions(rng, product: bool):
    n = 300
    frame = pd.DataFrame({k: rng.uniform(-1, 1, n) for k in ("a", "b", "c")})
    a, b = frame["a"].to_numpy(), frame["b"].to_numpy()
    y = (a * b if product else a + b) + rng.normal(0, 0.05, n)
    params, _ = encode_parameters(frame)
    estimate = estimate_importance(params, y, alpha=0.05, seed=0, n_estimators=40)
    return find_interactions(params, estimate)


def test_product_term_is_the_strongest_interaction(rng) -> None:
    found = _interactions(rng, product=True)
    assert found[0].parameters == ("a", "b")
    assert found[0].h_statistic > 0.5
    assert found[0].variance_frac > 0.3
    assert all(i.variance_frac < 0.05 for i in found[1:])


def test_additive_surface_has_weak_interactions(rng) -> None:
    found = _interactions(rng, product=False)
    assert all(i.h_statistic < 0.1 for i in found)
