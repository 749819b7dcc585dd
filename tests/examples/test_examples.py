"""Tests of the bundled example runs."""

from __future__ import annotations

import pytest

from dynamics_stats.examples import EXAMPLES, example_path
from dynamics_stats.io import load_run


def test_every_example_folder_exists():
    for name in EXAMPLES:
        assert (example_path(name) / "metrics.csv").is_file()
    assert example_path() == example_path("digits_overfit")


def test_an_unknown_example_lists_the_available_ones():
    with pytest.raises(LookupError, match="Available: digits_overfit"):
        example_path("digits")


def test_digits_overfit_loads_with_every_kind_of_metric():
    run = load_run(example_path())
    assert run.format == "lightning_csv"
    assert run.notes == ()
    assert {
        "train_loss_step",
        "train_loss_epoch",
        "val_loss",
        "val_acc",
        "grad_2.0_norm_total",
        "lr-Adam",
    } <= set(run.metric_names)
    assert run.role_hints["lr-Adam"] == "learning_rate"
    assert run.role_hints["grad_2.0_norm_total"] == "grad_norm"
    assert run.hparams["n_train"] == 150


def test_digits_overfit_shows_overfitting():
    records = load_run(example_path()).records
    val = records[records["metric"] == "val_loss"]
    train = records[records["metric"] == "train_loss_epoch"]["value"].to_numpy(dtype=float)
    values = val["value"].to_numpy(dtype=float)
    last_step = records["step"].max()
    assert len(values) >= 20
    assert val["step"].iloc[values.argmin()] < 0.7 * last_step
    assert values[-1] >= 1.2 * values.min()
    assert train[-1] == train.min()
    assert train[-1] < 0.5 * train[int(0.7 * len(train))]
