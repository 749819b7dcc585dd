import numpy as np
import pandas as pd

from dynamics_stats import RunLog, validate_run
from dynamics_stats.curves import model_curves
from dynamics_stats.detectors import ProgressDetector


def _run(loss):
    steps = np.arange(len(loss))
    records = pd.DataFrame({"metric": "loss", "step": steps, "value": loss})
    records = records.assign(epoch=np.nan, wall_time=np.nan, line=0)
    return model_curves(validate_run(RunLog("t", "test", records)))


def _by_kind(run):
    return {e.kind: e for e in ProgressDetector().detect(run)}


def _noise(seed, n):
    return np.exp(np.random.default_rng(seed).normal(0, 0.05, n))


def test_stall_scores_above_a_converged_run_and_slow_steady_progress():
    steps = np.arange(3000)
    for seed in range(3):
        stalled = 2.3 * (1 - 0.01 * (1 - np.exp(-steps / 100))) * _noise(seed, 3000)
        converged = (0.1 + 2.2 * np.exp(-steps / 150)) * _noise(seed, 3000)
        steady = 2.3 * (1 + steps / 300) ** -0.15 * _noise(seed, 3000)
        s, c, w = (_by_kind(_run(x))["stalled"].score for x in (stalled, converged, steady))
        assert s >= 1.0 > max(c, w)


def test_plateau_and_its_outlook():
    steps = np.arange(3000)
    converged = _by_kind(_run((0.1 + 2.2 * np.exp(-steps / 150)) * _noise(0, 3000)))
    improving = _by_kind(_run(2.3 * (1 + steps / 30) ** -0.5 * _noise(0, 3000)))
    assert converged["performance_plateau"].score >= 1.0 > improving["performance_plateau"].score
    gain = improving["performance_plateau"].value("expected_further_gain")
    low = improving["performance_plateau"].value("expected_further_gain_low")
    assert gain > 0 and low <= gain
    assert converged["stalled"].value("steps_to_90pct_improvement") < 1000


def test_too_short_run_gives_nothing():
    assert ProgressDetector().detect(_run(np.array([1.0, 0.9, 0.8]))) == ()
