"""SweepTable: validation of the per-run table of a sweep."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dynamics_stats.core.errors import InputError
from dynamics_stats.sweeps import SweepTable


def _frames(n_runs: int = 5) -> tuple[pd.DataFrame, pd.DataFrame]:
    ids = [f"r{i}" for i in range(n_runs)]
    params = pd.DataFrame({"lr": np.logspace(-4, -1, n_runs)}, index=ids)
    outcomes = pd.DataFrame(
        {"best_val_loss": np.linspace(1.0, 0.5, n_runs), "p_divergence": 0.1}, index=ids
    )
    return params, outcomes


def test_valid_table_reports_runs_and_problem_columns() -> None:
    params, outcomes = _frames()
    table = SweepTable(params, outcomes, objective="best_val_loss", direction="minimize")
    assert table.n_runs == 5
    assert table.problem_columns == ("p_divergence",)


def test_missing_objective_names_the_columns() -> None:
    params, outcomes = _frames()
    with pytest.raises(InputError, match="objective 'val_acc' is not a column.*best_val_loss"):
        SweepTable(params, outcomes, objective="val_acc", direction="maximize")


def test_fewer_than_three_finite_objectives_is_an_error() -> None:
    params, outcomes = _frames()
    outcomes.loc[["r0", "r1", "r2"], "best_val_loss"] = [np.nan, np.inf, np.nan]
    with pytest.raises(InputError, match="finite in only 2 of 5 runs"):
        SweepTable(params, outcomes, objective="best_val_loss", direction="minimize")


def test_misaligned_index_is_an_error() -> None:
    params, outcomes = _frames()
    with pytest.raises(InputError, match="same index"):
        SweepTable(params, outcomes.iloc[::-1], objective="best_val_loss", direction="minimize")


def test_duplicated_run_ids_are_an_error() -> None:
    params, outcomes = _frames()
    params.index = outcomes.index = ["a", "a", "b", "c", "d"]
    with pytest.raises(InputError, match="duplicated run ids"):
        SweepTable(params, outcomes, objective="best_val_loss", direction="minimize")


def test_bad_direction_and_probability_range_are_errors() -> None:
    params, outcomes = _frames()
    with pytest.raises(InputError, match="direction must be 'minimize' or 'maximize'"):
        SweepTable(params, outcomes, objective="best_val_loss", direction="lower")  # type: ignore[arg-type]
    outcomes["p_divergence"] = 1.5
    with pytest.raises(InputError, match="'p_divergence' holds probabilities"):
        SweepTable(params, outcomes, objective="best_val_loss", direction="minimize")


def test_no_parameter_column_is_an_error() -> None:
    params, outcomes = _frames()
    with pytest.raises(InputError, match="no hyper-parameter column"):
        SweepTable(params[[]], outcomes, objective="best_val_loss", direction="minimize")
