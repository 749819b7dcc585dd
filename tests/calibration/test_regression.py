"""Regression guard: the probabilities of a few fixed real runs stay where the map put them.

The expected numbers are written by ``calibration/fit.py`` (through
``calibration/regression.py``) whenever the shipped map is refitted. The analysis is
deterministic, so the tolerance of 0.02 only absorbs floating-point differences between
library builds (BLAS, statsmodels' Kalman filter); a detector or map change that moves a
probability by more than that must come with a refit.
"""

import json
from pathlib import Path

import pytest

from dynamics_stats import analyze
from dynamics_stats.examples import example_path

EXPECTED = json.loads(
    (Path(__file__).parents[1] / "data" / "regression_probabilities.json").read_text()
)
TOLERANCE = 0.02


def _path(key, public_runs_dir):
    source, name = key.split(":", 1)
    return example_path(name) if source == "example" else public_runs_dir / name


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_probabilities_of_fixed_runs_are_stable(key, request):
    folder = request.getfixturevalue("public_runs") if key.startswith("public:") else None
    result = analyze(_path(key, folder))
    assert result.calibration.name == EXPECTED[key]["calibration"]
    for kind, expected in EXPECTED[key]["issues"].items():
        assert result.probability(kind) == pytest.approx(expected, abs=TOLERANCE), kind
