"""Agreement check: on an Optuna study with strong effects, our top parameter is Optuna's."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from dynamics_stats.sweeps import SweepTable, analyze_sweep

optuna = pytest.importorskip("optuna")


def _objective_lr(trial) -> float:
    lr = trial.suggest_float("lr", 1e-5, 1e-1, log=True)
    depth = trial.suggest_int("depth", 1, 8)
    trial.suggest_float("dropout", 0.0, 0.5)
    trial.suggest_categorical("activation", ["relu", "gelu", "silu"])
    noise = 0.1 * math.sin(1000 * trial.number)  # deterministic small noise
    return 3.0 * (math.log10(lr) + 3.0) ** 2 + 0.2 * depth + noise


def _objective_optimizer(trial) -> float:
    optimizer = trial.suggest_categorical("optimizer", ["adam", "sgd", "adagrad"])
    width = trial.suggest_int("width", 16, 512, log=True)
    trial.suggest_float("weight_decay", 1e-6, 1e-2, log=True)
    penalty = {"adam": 0.0, "sgd": 4.0, "adagrad": 2.0}[optimizer]
    return penalty + 0.5 * math.log2(width / 16) / 5 + 0.1 * math.cos(77 * trial.number)


def _study(objective, seed: int):
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="minimize", sampler=optuna.samplers.RandomSampler(seed))
    study.optimize(objective, n_trials=80)
    return study


def _to_table(study) -> SweepTable:
    trials = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    ids = [f"trial{t.number}" for t in trials]
    params = pd.DataFrame([t.params for t in trials], index=ids)
    outcomes = pd.DataFrame({"value": [t.value for t in trials]}, index=ids)
    return SweepTable(params, outcomes, objective="value", direction="minimize")


CASES = [(_objective_lr, "lr"), (_objective_optimizer, "optimizer")]


def _check_ours(study, expected_top: str, seed: int) -> None:
    result = analyze_sweep(_to_table(study), n_bootstrap=100, n_estimators=50, seed=seed)
    ours = result.parameters[0]
    assert ours.name == expected_top
    assert ours.significant
    # our main-effect variance share (fANOVA-style) also puts it first
    by_share = max(result.parameters, key=lambda p: p.variance_frac or 0.0)
    assert by_share.name == expected_top


@pytest.mark.parametrize(("objective", "expected_top"), CASES)
@pytest.mark.parametrize("seed", [0, 1])
def test_top_parameter_agrees_with_optuna_mdi(objective, expected_top: str, seed: int) -> None:
    study = _study(objective, seed)
    mdi = optuna.importance.get_param_importances(
        study, evaluator=optuna.importance.MeanDecreaseImpurityImportanceEvaluator(seed=seed)
    )
    assert next(iter(mdi)) == expected_top
    _check_ours(study, expected_top, seed)


@pytest.mark.slow
@pytest.mark.parametrize(("objective", "expected_top"), CASES)
def test_top_parameter_agrees_with_optuna_fanova(objective, expected_top: str) -> None:
    """Optuna's fANOVA is pure Python (about 6 s for 80 trials here), hence slow."""
    study = _study(objective, 0)
    fanova = optuna.importance.get_param_importances(
        study, evaluator=optuna.importance.FanovaImportanceEvaluator(seed=0)
    )
    assert np.isclose(sum(fanova.values()), 1.0)
    assert next(iter(fanova)) == expected_top
    _check_ours(study, expected_top, 0)
