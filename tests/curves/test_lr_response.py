import math

import numpy as np
import pandas as pd
import pytest

from dynamics_stats import ConfigError, load_run, validate_run
from dynamics_stats.curves.lr_response import relate_loss_slope_to_lr


def _run(lr, rate_of_lr, seed=0):
    rng = np.random.default_rng(seed)
    log_loss = 1.0 - np.cumsum(rate_of_lr(lr)) + rng.normal(0, 0.002, len(lr))
    frame = pd.DataFrame({"step": np.arange(len(lr)), "loss": 10.0**log_loss, "lr": lr})
    return validate_run(load_run(frame))


def _cyclic_lr(n=3000):
    steps = np.arange(n)
    return 1e-3 * (1.0 + 0.9 * np.sin(2 * np.pi * steps / 700))


def test_loss_falling_faster_at_higher_lr_gives_a_positive_interval():
    response = relate_loss_slope_to_lr(_run(_cyclic_lr(), lambda lr: 0.2 * lr))
    assert response.available and response.reason == ""
    assert response.spearman > 0.8 and response.ci_low > 0.0
    assert response.ci_low < response.spearman < response.ci_high <= 1.0
    assert response.n_windows == 12
    # the fastest windows sit at the top of the LR range
    assert response.fastest_lr_low >= 0.5 * response.lr_max
    assert math.isfinite(response.partial_spearman) and response.partial_spearman > 0


def test_loss_falling_faster_at_lower_lr_gives_a_negative_interval():
    response = relate_loss_slope_to_lr(_run(_cyclic_lr(), lambda lr: 2e-7 / lr))
    assert response.available and response.spearman < -0.8 and response.ci_high < 0.0
    assert response.fastest_lr_high <= 0.5 * response.lr_max


def test_constant_lr_and_missing_lr_are_unavailable_with_the_reason():
    constant = relate_loss_slope_to_lr(_run(np.full(3000, 1e-3), lambda lr: 0.2 * lr))
    assert not constant.available and "barely changes" in constant.reason
    assert math.isnan(constant.spearman)
    frame = pd.DataFrame({"step": np.arange(100), "loss": np.linspace(2, 1, 100)})
    missing = relate_loss_slope_to_lr(validate_run(load_run(frame)))
    assert not missing.available and missing.reason == "the run logs no learning rate"


def test_window_count_is_checked():
    with pytest.raises(ConfigError, match=r"n_windows must be an int in \[5, 200\]; got 2"):
        relate_loss_slope_to_lr(_run(_cyclic_lr(), lambda lr: 0.2 * lr), n_windows=2)


def test_pairs_are_plain_floats():
    pairs = relate_loss_slope_to_lr(_run(_cyclic_lr(), lambda lr: 0.2 * lr)).to_pairs()
    assert all(isinstance(k, str) and type(v) is float for k, v in pairs)
    assert dict(pairs)["n_windows"] == 12.0
