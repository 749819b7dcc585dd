"""Synthetic sweeps with a known response surface, for the sweep tests."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from dynamics_stats.core.kinds import CORE_KINDS
from dynamics_stats.sweeps import SweepTable

SweepFactory = Callable[..., SweepTable]


def known_surface_sweep(seed: int, n_runs: int = 120, *, noise: float = 0.5) -> SweepTable:
    """objective = (log10 lr + 3)^2 + 0.5 depth + 1.0 [optimizer == sgd] + noise.

    ``weight_decay`` (log-uniform), ``dropout`` (uniform), ``use_ema`` (boolean) and
    ``activation`` (categorical) are inert; ``dropout`` is missing in 10% of the runs.
    P(divergence) rises with the learning rate; P(stalled) falls with it; the other problem
    probabilities are independent noise.
    """
    rng = np.random.default_rng(seed)
    log_lr = rng.uniform(-5, -1, n_runs)
    depth = rng.integers(1, 9, n_runs)
    optimizer = rng.choice(["adam", "sgd", "rmsprop"], n_runs)
    ids = [f"run{i:04d}" for i in range(n_runs)]
    params = pd.DataFrame(
        {
            "lr": 10**log_lr,
            "depth": depth,
            "optimizer": optimizer,
            "weight_decay": 10 ** rng.uniform(-6, -2, n_runs),
            "dropout": rng.uniform(0.0, 0.5, n_runs),
            "use_ema": rng.random(n_runs) < 0.5,
            "activation": rng.choice(["relu", "gelu"], n_runs),
        },
        index=ids,
    )
    params.loc[rng.random(n_runs) < 0.1, "dropout"] = np.nan
    objective = (
        (log_lr + 3) ** 2 + 0.5 * depth + (optimizer == "sgd") + rng.normal(0, noise, n_runs)
    )
    outcomes = pd.DataFrame({"best_val_loss": objective}, index=ids)
    for kind in CORE_KINDS:
        outcomes[f"p_{kind}"] = rng.uniform(0, 1, n_runs)
    outcomes["p_divergence"] = 1 / (1 + np.exp(-2.0 * (log_lr + 2) + rng.normal(0, 0.5, n_runs)))
    outcomes["p_stalled"] = 1 / (1 + np.exp(2.0 * (log_lr + 4) + rng.normal(0, 0.5, n_runs)))
    return SweepTable(params, outcomes, objective="best_val_loss", direction="minimize")


def noise_sweep(seed: int, n_runs: int = 60) -> SweepTable:
    """Every parameter inert: the objective and the problem probabilities are pure noise."""
    rng = np.random.default_rng(seed)
    ids = [f"run{i:03d}" for i in range(n_runs)]
    params = pd.DataFrame(
        {
            "lr": 10 ** rng.uniform(-5, -1, n_runs),
            "depth": rng.integers(1, 9, n_runs),
            "optimizer": rng.choice(["adam", "sgd", "rmsprop"], n_runs),
            "use_ema": rng.random(n_runs) < 0.5,
        },
        index=ids,
    )
    outcomes = pd.DataFrame({"best_val_loss": rng.normal(0, 1, n_runs)}, index=ids)
    outcomes["p_divergence"] = rng.uniform(0, 1, n_runs)
    return SweepTable(params, outcomes, objective="best_val_loss", direction="minimize")


@pytest.fixture(scope="session")
def make_sweep() -> SweepFactory:
    """Factory of known-surface sweeps: ``make_sweep(seed, n_runs=120, noise=0.5)``."""
    return known_surface_sweep


@pytest.fixture(scope="session")
def make_noise_sweep() -> SweepFactory:
    """Factory of pure-noise sweeps: ``make_noise_sweep(seed, n_runs=60)``."""
    return noise_sweep
