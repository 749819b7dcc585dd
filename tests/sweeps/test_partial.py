"""Partial rank correlations remove what another parameter explains."""

from __future__ import annotations

import pandas as pd
import pytest

from dynamics_stats.sweeps._encoding import encode_parameters
from dynamics_stats.sweeps.partial import partial_rank_correlations


def test_a_proxy_parameter_loses_its_correlation(rng) -> None:
    n = 300
    cause = rng.uniform(size=n)
    proxy = cause + rng.normal(0, 0.1, n)  # correlated with the cause, no effect of its own
    y = cause + rng.normal(0, 0.1, n)
    params, _ = encode_parameters(
        pd.DataFrame({"cause": cause, "proxy": proxy, "opt": rng.choice(["a", "b"], n)})
    )
    partial = partial_rank_correlations(params, y)
    assert partial["cause"] > 0.5
    assert abs(partial["proxy"]) < 0.15
    assert partial["opt"] is None


def test_too_few_runs_give_none(rng) -> None:
    params, _ = encode_parameters(pd.DataFrame({f"x{i}": rng.uniform(size=5) for i in range(3)}))
    partial = partial_rank_correlations(params, rng.normal(size=5))
    assert partial == {"x0": None, "x1": None, "x2": None}


def test_single_parameter_partial_equals_spearman(rng) -> None:
    from scipy import stats

    x = rng.uniform(size=40)
    y = x + rng.normal(0, 0.5, 40)
    params, _ = encode_parameters(pd.DataFrame({"x": x}))
    assert partial_rank_correlations(params, y)["x"] == pytest.approx(stats.spearmanr(x, y)[0])
