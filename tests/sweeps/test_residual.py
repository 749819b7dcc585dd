"""Conditional tests: the objective net of the other parameters reveals a masked category."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dynamics_stats.sweeps._encoding import encode_parameters
from dynamics_stats.sweeps.correlate import BootstrapRanks, add_conditional_test, associate_pair
from dynamics_stats.sweeps.residual import residual_objective


def _masked_sweep(rng, n: int = 150):
    frame = pd.DataFrame(
        {
            "big": rng.uniform(-1, 1, n),
            "opt": rng.choice(["a", "b"], n),
            "flag": rng.random(n) < 0.5,
        }
    )
    # "big" dominates; "opt" shifts the objective by 0.3; "flag" is inert.
    y = 3 * frame["big"].to_numpy() + 0.3 * (frame["opt"] == "b").to_numpy()
    return frame, y + rng.normal(0, 0.2, n)


def test_residual_removes_the_other_parameters(rng) -> None:
    frame, y = _masked_sweep(rng)
    params, _ = encode_parameters(frame)
    residual = residual_objective(params, y, 1, seed=0, n_estimators=50)
    assert np.nanvar(residual) < 0.2 * np.var(y)
    assert np.isfinite(residual).sum() >= 0.95 * len(y)


def test_conditional_test_finds_the_masked_category_not_the_inert_flag(rng) -> None:
    frame, y = _masked_sweep(rng)
    params, _ = encode_parameters(frame)
    boot = BootstrapRanks(50, 0)
    for index, expect_effect in ((1, True), (2, False)):
        raw = associate_pair(params[index], "y", y, boot, alpha=0.05)
        residual = residual_objective(params, y, index, seed=0, n_estimators=50)
        both = add_conditional_test(raw, params[index], residual)
        combined = min(1.0, 2 * min(raw.p_value, both.conditional_p_value))
        assert both.p_value == combined
        if expect_effect:
            assert both.conditional_p_value < 1e-4 < raw.p_value
        else:
            assert both.conditional_p_value > 0.01


def test_a_single_parameter_has_no_residual(rng) -> None:
    params, _ = encode_parameters(pd.DataFrame({"opt": rng.choice(["a", "b"], 20)}))
    assert residual_objective(params, rng.normal(size=20), 0, seed=0, n_estimators=10) is None
