"""The verdicts do not depend on how often a run was logged or on the loss's units."""

import numpy as np
import pytest

from dynamics_stats import analyze
from dynamics_stats.io import synthetic

CASES = [
    (None, 0),
    (None, 1),
    ("overfitting", 2),
    ("divergence", 3),
    ("loss_spikes", 4),
    ("exploding_gradients", 5),
    ("stalled", 6),
]


def _issues(**options):
    run, _ = synthetic.make_run(n_steps=5000, strength=2.0, **options)
    return dict(analyze(run).issues)


def _verdicts(issues):
    return {kind for kind, p in issues.items() if p >= 0.5}


@pytest.mark.parametrize(("kind", "seed"), CASES)
def test_logging_every_step_or_every_tenth_step_gives_the_same_verdicts(kind, seed):
    every_step = _issues(kind=kind, seed=seed, log_every=1)
    every_tenth = _issues(kind=kind, seed=seed, log_every=10)
    assert _verdicts(every_step) == _verdicts(every_tenth)
    differences = [abs(every_step[k] - every_tenth[k]) for k in every_step]
    assert np.median(differences) <= 0.1


@pytest.mark.parametrize(("kind", "seed"), CASES)
def test_scaling_the_loss_changes_no_probability(kind, seed):
    plain = _issues(kind=kind, seed=seed)
    scaled = _issues(kind=kind, seed=seed, loss_scale=1000.0)
    for k, p in plain.items():
        assert scaled[k] == pytest.approx(p, abs=1e-6), k
