"""`SweepRun` and `SweepSource`: what runs a sweep has, where their logs are, their parameters."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal, TypeAlias

from dynamics_stats.core.types import HParamValue

__all__ = [
    "SweepDirection",
    "SweepKind",
    "SweepRun",
    "SweepSource",
    "guess_direction",
    "python_scalar",
]

SweepKind: TypeAlias = Literal["folder", "optuna", "mlflow", "wandb_export", "table"]
SweepDirection: TypeAlias = Literal["minimize", "maximize"]

_MAXIMIZED = re.compile(
    r"acc|auc|f1|precision|recall|score|bleu|rouge|reward|map\b|iou|r2", re.IGNORECASE
)


@dataclass(frozen=True, slots=True)
class SweepRun:
    """One run of a sweep: its id, hyper-parameters and where its training log is.

    Parameters
    ----------
    run_id : str
        Unique id within the sweep (folder name, ``trial_7``, MLflow run id, table row).
    params : tuple of (str, scalar)
        Hyper-parameters known from the sweep source (may be completed from the log).
    log : str or None, default=None
        Path or ``runs:/<id>`` URI that `dynamics_stats.io.load_run` reads; None when the
        source holds no per-run log.
    tracking_uri : str or None, default=None
        MLflow tracking URI for ``runs:/`` logs.
    curve : tuple of (int, float), default=()
        A curve held by the source itself (Optuna intermediate values), as (step, value).
    curve_metric : str or None, default=None
        Name under which ``curve`` is analysed (for instance ``val_loss``).
    values : tuple of (str, float), default=()
        Outcomes the source recorded (objective value, summary metrics).
    """

    run_id: str
    params: tuple[tuple[str, HParamValue], ...]
    log: str | None = None
    tracking_uri: str | None = None
    curve: tuple[tuple[int, float], ...] = ()
    curve_metric: str | None = None
    values: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True, slots=True)
class SweepSource:
    """The runs of one sweep, read from a folder, an Optuna study, MLflow or a table.

    Parameters
    ----------
    kind : {"folder", "optuna", "mlflow", "wandb_export", "table"}
        What the sweep was read from.
    location : str
        The path or URI it was read from.
    runs : tuple of SweepRun
        The usable runs, in source order.
    objective : str or None
        The metric to optimise: a metric name or role for runs with logs, a column for
        tables; None lets the analysis choose (the validation loss).
    direction : {"minimize", "maximize"} or None
        Whether the objective is minimised; None lets the analysis decide from the metric.
    per_run_logs : bool
        Whether runs have training curves to analyse (False for tables).
    log_scale : tuple of str, default=()
        Parameters the source declares log-scaled (Optuna ``log=True`` distributions).
    limitations : tuple of str, default=()
        Runs left out and other gaps, one plain sentence each.
    """

    kind: SweepKind
    location: str
    runs: tuple[SweepRun, ...]
    objective: str | None
    direction: SweepDirection | None
    per_run_logs: bool
    log_scale: tuple[str, ...] = ()
    limitations: tuple[str, ...] = ()

    @property
    def n_runs(self) -> int:
        """Number of usable runs."""
        return len(self.runs)


def guess_direction(metric: str) -> SweepDirection:
    """Tell from a metric's name whether it is maximised (accuracy, F1...) or minimised.

    Parameters
    ----------
    metric : str
        Metric or column name.

    Returns
    -------
    {"minimize", "maximize"}

    Examples
    --------
    >>> guess_direction("val_acc"), guess_direction("val_loss")
    ('maximize', 'minimize')
    """
    if "loss" in metric.lower() or "error" in metric.lower():
        return "minimize"
    return "maximize" if _MAXIMIZED.search(metric) else "minimize"


def python_scalar(value: object) -> HParamValue:
    """Turn a table cell (numpy scalar, NaN) into a plain scalar; NaN and NA become None.

    Examples
    --------
    >>> import numpy as np
    >>> python_scalar(np.int64(3)), python_scalar(float("nan")), python_scalar("adam")
    (3, None, 'adam')
    """
    if value is None:
        return None
    item = getattr(value, "item", None)
    if callable(item) and not isinstance(value, str):
        value = item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, (bool, int, float, str)):
        return value
    try:
        is_missing = bool(value != value)  # pandas NA, NaT
    except (TypeError, ValueError):
        is_missing = True
    return None if is_missing else str(value)
