"""Parameter kinds and encodings: log detection, booleans, categoricals, missing values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dynamics_stats.core.errors import ConfigError
from dynamics_stats.sweeps._encoding import encode_parameters


def _kinds(frame: pd.DataFrame, **options) -> dict[str, str]:
    encoded, _ = encode_parameters(frame, **options)
    return {p.name: p.kind for p in encoded}


def test_kinds_are_detected(rng) -> None:
    n = 50
    frame = pd.DataFrame(
        {
            "lr": 10 ** rng.uniform(-5, -1, n),
            "lr_grid": rng.choice([1e-4, 1e-3, 1e-2, 1e-1], n),
            "unit": rng.uniform(0, 1, n),  # max/min can exceed 100, but it is not log-spread
            "depth": rng.integers(1, 9, n),
            "flag": rng.random(n) < 0.5,
            "flag_text": rng.choice(["True", "False"], n),
            "number_text": rng.choice(["0.1", "0.2", "0.3"], n),
            "opt": rng.choice(["adam", "sgd"], n),
        }
    )
    assert _kinds(frame) == {
        "lr": "log-numeric",
        "lr_grid": "log-numeric",
        "unit": "numeric",
        "depth": "numeric",
        "flag": "boolean",
        "flag_text": "boolean",
        "number_text": "numeric",
        "opt": "categorical",
    }


def test_missing_numeric_gets_median_and_indicator(rng) -> None:
    values = rng.uniform(1, 2, 20)
    values[[0, 5]] = np.nan
    (param,), notes = encode_parameters(pd.DataFrame({"x": values}))
    assert param.n_missing == 2
    assert param.design.shape == (20, 2)
    assert param.design[0, 0] == pytest.approx(np.nanmedian(values))
    assert param.design[:, 1].sum() == 2
    assert "missing in 2 of 20 runs" in notes[0]


def test_missing_categorical_becomes_a_level(rng) -> None:
    values = pd.Series(rng.choice(["a", "b"], 20), dtype=object)
    values[3] = None
    (param,), _ = encode_parameters(pd.DataFrame({"c": values}))
    assert param.levels == ("(missing)", "a", "b")
    assert param.codes[3] == -1
    assert param.grid_weights.sum() == pytest.approx(1.0)


def test_log_override_errors_name_the_parameter() -> None:
    frame = pd.DataFrame({"x": [-1.0, 0.0, 2.0, 3.0], "c": ["a", "b", "a", "b"]})
    with pytest.raises(ConfigError, match=r"log_scale\['x'\] is True but 'x' has values <= 0"):
        encode_parameters(frame, log_scale={"x": True})
    with pytest.raises(ConfigError, match="not in the sweep: \\['y'\\]"):
        encode_parameters(frame, log_scale={"y": False})
