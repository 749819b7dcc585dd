import dataclasses

import numpy as np
import pandas as pd

from dynamics_stats import RunLog, validate_run
from dynamics_stats.curves import model_curves
from dynamics_stats.curves.types import ModelledRun
from dynamics_stats.detectors import OverfittingDetector


def _run(seed, *, overfit, n=3000, every=50, scale=1.0, metric=False, modelled=True):
    rng = np.random.default_rng(seed)
    steps = np.arange(n)
    train = (0.05 + 2.0 * (1 + steps / 100) ** -0.8) * np.exp(rng.normal(0, 0.05, n))
    val_steps = np.arange(every - 1, n, every)
    val = 0.3 + 2.0 * (1 + val_steps / 100) ** -0.8
    if overfit:
        val = val + 0.4 * np.clip((val_steps - 1200) / n, 0, None)
    val = val * np.exp(rng.normal(0, 0.01, len(val_steps)))
    name, values = ("val_acc", 1 - val / 3) if metric else ("val_loss", val * scale)
    records = pd.concat(
        [
            pd.DataFrame({"metric": "loss", "step": steps, "value": train * scale}),
            pd.DataFrame({"metric": name, "step": val_steps, "value": values}),
        ]
    ).assign(epoch=np.nan, wall_time=np.nan, line=0)
    artifacts = validate_run(RunLog("t", "test", records))
    return model_curves(artifacts) if modelled else ModelledRun(artifacts)


def _evidence(run):
    (evidence,) = OverfittingDetector().detect(run)
    return evidence


def test_overfitting_ranks_above_healthy_runs_and_finds_the_best_step():
    sick = [_evidence(_run(s, overfit=True)) for s in range(4)]
    fine = [_evidence(_run(s, overfit=False)) for s in range(4)]
    assert min(e.score for e in sick) >= 1.0 > max(e.score for e in fine)
    for evidence in sick:
        assert 900 <= evidence.onset_step <= 1700


def test_modelled_curves_are_not_flagged_as_fallback():
    assert _evidence(_run(0, overfit=True)).value("used_fallback") == 0.0


def test_without_curve_models_the_fallback_trend_gives_slope_probabilities():
    sick = [_evidence(_run(s, overfit=True, modelled=False)) for s in range(4)]
    fine = [_evidence(_run(s, overfit=False, modelled=False)) for s in range(4)]
    assert all(e.value("used_fallback") == 1.0 for e in sick + fine)
    assert min(e.score for e in sick) >= 1.0 > max(e.score for e in fine)
    for evidence in sick:
        assert 900 <= evidence.onset_step <= 1700
        # the local-linear fallback has slope errors: these are real probabilities, not 0.5
        assert evidence.value("p_train_better_since_best") > 0.99
        assert evidence.value("p_val_worse_since_best") > 0.9


def test_a_smoothed_curve_without_slope_errors_is_replaced_by_the_fallback():
    run = _run(0, overfit=True)
    ewma = {
        name: dataclasses.replace(
            curve, method="ewma_fallback", slope_se=np.full(len(curve.steps), np.nan)
        )
        for name, curve in run.curves.items()
    }
    degraded = _evidence(ModelledRun(run.artifacts, curves=ewma))
    assert degraded.values == _evidence(ModelledRun(run.artifacts)).values
    assert degraded.value("used_fallback") == 1.0


def test_accuracy_like_validation_metric_is_used_when_no_val_loss():
    sick = _evidence(_run(0, overfit=True, metric=True))
    fine = _evidence(_run(0, overfit=False, metric=True))
    assert sick.metric == "val_acc" and sick.score > fine.score


def test_scale_invariance():
    a = _evidence(_run(1, overfit=True)).score
    b = _evidence(_run(1, overfit=True, scale=1e3)).score
    # the profile-likelihood fit is numerical: equal up to optimiser noise
    assert abs(a - b) < 1e-4 * max(1.0, abs(a))


def test_no_validation_data_means_no_evidence():
    steps = np.arange(100)
    records = pd.DataFrame({"metric": "loss", "step": steps, "value": 1.0 / (1 + steps)})
    records = records.assign(epoch=np.nan, wall_time=np.nan, line=0)
    run = model_curves(validate_run(RunLog("t", "test", records)))
    assert OverfittingDetector().detect(run) == ()
