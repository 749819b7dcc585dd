"""`SweepTable`: one row per run of a sweep, its hyper-parameters and its outcomes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from dynamics_stats.core.errors import InputError
from dynamics_stats.core.kinds import CORE_KINDS
from dynamics_stats.core.types import FloatArray

__all__ = ["MIN_RUNS", "PROBLEM_COLUMNS", "SweepTable"]

#: Fewest runs with a finite objective a sweep needs before anything can be compared.
MIN_RUNS = 3

#: Outcome columns holding the probability of each core problem kind, in report order.
PROBLEM_COLUMNS: tuple[str, ...] = tuple(f"p_{kind}" for kind in CORE_KINDS)


@dataclass(frozen=True, eq=False)  # DataFrames have no boolean ==
class SweepTable:
    """The hyper-parameters and outcomes of the runs of one sweep, one row per run.

    Parameters
    ----------
    params : pandas.DataFrame
        Index: run id (str), unique. One column per hyper-parameter; mixed dtypes (float,
        int, bool, str or categorical) and missing values are allowed.
    outcomes : pandas.DataFrame
        Same index as ``params``. The objective column(s) (e.g. ``best_val_loss``,
        ``final_val_loss``, ``steps_to_converge``) and ``p_<kind>`` for each of the seven
        core problem kinds; any may be missing or NaN.
    objective : str
        The outcomes column the sweep optimises.
    direction : {"minimize", "maximize"}
        Whether a smaller or a larger objective is better.
    limitations : tuple of str, default=()
        Plain sentences on what is missing from the sweep (e.g. runs that failed to load).

    Raises
    ------
    InputError
        When the frames are not aligned, the objective column is missing or not numeric,
        a ``p_<kind>`` column is outside [0, 1], or fewer than 3 runs have a finite objective.

    Examples
    --------
    >>> import pandas as pd
    >>> ids = ["a", "b", "c"]
    >>> params = pd.DataFrame({"lr": [1e-3, 1e-2, 1e-1]}, index=ids)
    >>> outcomes = pd.DataFrame({"best_val_loss": [0.3, 0.2, 0.9]}, index=ids)
    >>> SweepTable(params, outcomes, objective="best_val_loss", direction="minimize").n_runs
    3
    """

    params: pd.DataFrame
    outcomes: pd.DataFrame
    objective: str
    direction: Literal["minimize", "maximize"]
    limitations: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_frames(self.params, self.outcomes)
        _check_objective(self.outcomes, self.objective, self.direction)
        _check_problem_columns(self.outcomes)
        if not all(isinstance(line, str) for line in self.limitations):
            raise InputError("SweepTable.limitations must be a tuple of str sentences.")

    @property
    def n_runs(self) -> int:
        """Number of runs (rows) in the table."""
        return len(self.params)

    def outcome_values(self, column: str) -> FloatArray:
        """Return outcome ``column`` as floats, NaN where missing, non-numeric or infinite."""
        values = pd.to_numeric(self.outcomes[column], errors="coerce").to_numpy(dtype=float)
        return np.where(np.isfinite(values), values, np.nan)

    @property
    def problem_columns(self) -> tuple[str, ...]:
        """The ``p_<kind>`` columns present in ``outcomes``, in report order."""
        return tuple(c for c in PROBLEM_COLUMNS if c in self.outcomes.columns)


def _check_frames(params: pd.DataFrame, outcomes: pd.DataFrame) -> None:
    for name, frame in (("params", params), ("outcomes", outcomes)):
        if not isinstance(frame, pd.DataFrame):
            raise InputError(
                f"SweepTable.{name} must be a pandas DataFrame indexed by run id; "
                f"got {type(frame).__name__}."
            )
        if not frame.index.is_unique:
            dup = frame.index[frame.index.duplicated()].unique()[:3].tolist()
            raise InputError(
                f"SweepTable.{name} has duplicated run ids {dup}; give each run a unique id."
            )
    if not params.index.equals(outcomes.index):
        missing = params.index.symmetric_difference(outcomes.index)[:3].tolist()
        raise InputError(
            "SweepTable.params and SweepTable.outcomes must have the same index (run ids, same "
            f"order); they differ, e.g. at {missing}. "
            "Align them with outcomes.reindex(params.index)."
        )
    if params.shape[1] == 0:
        raise InputError(
            "SweepTable.params has no hyper-parameter column; a sweep needs at least one."
        )


def _check_objective(outcomes: pd.DataFrame, objective: str, direction: str) -> None:
    if direction not in ("minimize", "maximize"):
        raise InputError(
            f"SweepTable.direction must be 'minimize' or 'maximize'; got {direction!r}."
        )
    if objective not in outcomes.columns:
        raise InputError(
            f"objective {objective!r} is not a column of SweepTable.outcomes "
            f"(columns: {', '.join(map(str, outcomes.columns))}). Pass one of them as objective."
        )
    values = pd.to_numeric(outcomes[objective], errors="coerce").to_numpy(dtype=float)
    n_finite = int(np.isfinite(values).sum())
    if n_finite < MIN_RUNS:
        raise InputError(
            f"objective {objective!r} is finite in only {n_finite} of {len(values)} runs; "
            f"a sweep analysis needs at least {MIN_RUNS}. Add runs or choose another objective."
        )


def _check_problem_columns(outcomes: pd.DataFrame) -> None:
    for column in PROBLEM_COLUMNS:
        if column not in outcomes.columns:
            continue
        values = pd.to_numeric(outcomes[column], errors="coerce").to_numpy(dtype=float)
        finite = values[np.isfinite(values)]
        if finite.size and (finite.min() < 0.0 or finite.max() > 1.0):
            raise InputError(
                f"outcome column {column!r} holds probabilities and must lie in [0, 1]; "
                f"got values from {finite.min():g} to {finite.max():g}."
            )
