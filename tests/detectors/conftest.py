"""Fixtures for detector tests: small seeded runs built with numpy, modelled without curves."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dynamics_stats import RunLog, validate_run
from dynamics_stats.curves.types import ModelledRun


def make_modelled(steps, loss, grad_norm=None, lr=None, every=1, scale=1.0, hparams=None):
    """Build a ModelledRun (no curve models) from arrays, logging every ``every`` steps.

    Records are written one per value (NaN kept), as a loader writes them.
    """
    pick = np.arange(0, len(steps), every)
    columns = {"loss": np.asarray(loss, float)[pick] * scale}
    if grad_norm is not None:
        columns["grad_norm"] = np.asarray(grad_norm, float)[pick]
    if lr is not None:
        columns["lr"] = np.broadcast_to(np.asarray(lr, float), (len(steps),))[pick]
    frames = [
        pd.DataFrame(
            {
                "metric": name,
                "step": np.asarray(steps)[pick].astype(float),
                "epoch": np.nan,
                "wall_time": np.nan,
                "value": values,
                "line": 0,
            }
        )
        for name, values in columns.items()
    ]
    records = pd.concat(frames, ignore_index=True)
    run = RunLog(source="test", format="test", records=records, hparams=hparams or {})
    return ModelledRun(validate_run(run))


def healthy_arrays(seed, n=3000, noise=0.05):
    """A power-law loss with mildly heavy-tailed multiplicative noise and a slowly falling norm."""
    rng = np.random.default_rng(seed)
    steps = np.arange(n)
    loss = (0.3 + 2.0 * (1 + steps / 100) ** -0.7) * np.exp(noise * rng.standard_t(5, n))
    norm = (1 + steps / 500) ** -0.3 * np.exp(rng.normal(0, 0.15, n))
    return steps, loss, norm


@pytest.fixture
def healthy():
    return healthy_arrays


@pytest.fixture
def modelled():
    return make_modelled
