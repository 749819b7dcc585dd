"""The family of pair tests and its Benjamini-Hochberg adjustment."""

from __future__ import annotations

import numpy as np

from dynamics_stats.sweeps._encoding import encode_parameters
from dynamics_stats.sweeps.correlate import BootstrapRanks
from dynamics_stats.sweeps.pairs import adjust_pairs, associate_all


def test_every_parameter_meets_every_outcome_and_adjustment_is_monotone(make_sweep) -> None:
    table = make_sweep(4, n_runs=40)
    params, _ = encode_parameters(table.params)
    tests = associate_all(params, table, boot=BootstrapRanks(50, 0), alpha=0.05, model=(0, 10))
    assert len(tests) == len(params) * (1 + len(table.problem_columns))
    adjusted = adjust_pairs(list(tests.values()), 0.05)
    raw = {key: t.p_value for key, t in tests.items() if t.p_value is not None}
    assert adjusted.keys() == raw.keys()
    assert all(adjusted[key] >= raw[key] - 1e-12 for key in raw)
    order = sorted(raw, key=raw.get)
    assert np.all(np.diff([adjusted[key] for key in order]) >= -1e-12)  # BH keeps the order
    conditional = [t for t in tests.values() if t.conditional_p_value is not None]
    assert {t.parameter for t in conditional} == {"optimizer", "use_ema", "activation"}
    assert {t.outcome for t in conditional} == {"best_val_loss"}


def test_no_model_means_no_conditional_test(make_sweep) -> None:
    table = make_sweep(4, n_runs=10)
    params, _ = encode_parameters(table.params)
    tests = associate_all(params, table, boot=BootstrapRanks(50, 0), alpha=0.05, model=None)
    assert all(t.conditional_p_value is None for t in tests.values())
