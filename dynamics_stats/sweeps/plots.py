"""Notebook plots of a sweep: parameter vs outcome with its trend, importance bars, pathologies.

matplotlib is an optional extra (``pip install "dynamics_stats[notebooks]"``), imported inside
each function.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from statsmodels.nonparametric.smoothers_lowess import lowess

from dynamics_stats.core.errors import InputError
from dynamics_stats.sweeps._encoding import encode_parameters
from dynamics_stats.sweeps.result import SweepResult
from dynamics_stats.sweeps.table import SweepTable

__all__ = ["plot_importance", "plot_parameter", "plot_pathology"]


def _axes(ax: Any) -> Any:
    if ax is not None:
        return ax
    try:
        import matplotlib.pyplot as plt
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError(
            'sweep plots need matplotlib: pip install "dynamics_stats[notebooks]"'
        ) from err
    return plt.subplots(figsize=(6, 4))[1]


def plot_parameter(
    table: SweepTable,
    name: str,
    *,
    outcome: str | None = None,
    log_scale: Mapping[str, bool] | None = None,
    ax: Any = None,
) -> Any:
    """Scatter one parameter against an outcome, with its fitted trend.

    Parameters
    ----------
    table : SweepTable
        The sweep.
    name : str
        Parameter column.
    outcome : str, optional
        Outcome column; the objective by default.
    log_scale : mapping of str to bool, optional
        Override of the log-scale rule, as in `analyze_sweep`.
    ax : matplotlib Axes, optional
        Where to draw; a new figure by default.

    Returns
    -------
    matplotlib Axes

    Raises
    ------
    InputError
        When ``name`` or ``outcome`` is not a column, or the parameter is constant.

    Notes
    -----
    Numeric parameters get a LOWESS trend (statsmodels, frac 2/3, on log10 values for
    log-numeric ones); categorical and boolean ones get one box per level with its median.
    """
    outcome = outcome or table.objective
    if name not in table.params.columns or outcome not in table.outcomes.columns:
        raise InputError(
            f"cannot plot {name!r} against {outcome!r}: parameters are "
            f"{list(map(str, table.params.columns))}, outcomes {list(map(str, table.outcomes))}."
        )
    overrides = {name: log_scale[name]} if log_scale and name in log_scale else None
    encoded, notes = encode_parameters(table.params[[name]], log_scale=overrides)
    if not encoded:
        raise InputError(f"cannot plot {name!r}: {notes[0] if notes else 'not usable'}")
    param = encoded[0]
    y = pd.to_numeric(table.outcomes[outcome], errors="coerce").to_numpy(dtype=float)
    ax = _axes(ax)
    if param.values is None or param.kind == "boolean":
        _draw_levels(ax, table.params[name], y)
    else:
        _draw_trend(ax, param.values, y, log=param.kind == "log-numeric")
    ax.set_xlabel(name)
    ax.set_ylabel(outcome)
    ax.set_title(f"{outcome} vs {name}")
    return ax


def _draw_trend(ax: Any, x: np.ndarray, y: np.ndarray, *, log: bool) -> None:
    rows = np.isfinite(x) & np.isfinite(y)
    shown = 10.0 ** x[rows] if log else x[rows]
    ax.scatter(shown, y[rows], s=12, alpha=0.6, label="runs")
    if rows.sum() >= 5 and np.ptp(x[rows]) > 0:
        fitted = lowess(y[rows], x[rows], frac=2 / 3, return_sorted=True)
        trend_x = 10.0 ** fitted[:, 0] if log else fitted[:, 0]
        ax.plot(trend_x, fitted[:, 1], color="C3", label="LOWESS trend")
    if log:
        ax.set_xscale("log")
    ax.legend(loc="best")


def _draw_levels(ax: Any, values: pd.Series, y: np.ndarray) -> None:
    labels = values.map(lambda v: "(missing)" if pd.isna(v) else str(v)).to_numpy()
    levels = sorted(set(labels))
    groups = [y[(labels == level) & np.isfinite(y)] for level in levels]
    ax.boxplot(groups, showmeans=False)
    ax.set_xticks(range(1, len(levels) + 1), levels)


def plot_importance(result: SweepResult, *, measure: str = "importance", ax: Any = None) -> Any:
    """Horizontal bars of each parameter's importance with its interval.

    Parameters
    ----------
    result : SweepResult
        The analysed sweep.
    measure : {"importance", "variance_frac"}, default="importance"
        Permutation importance or main-effect variance share.
    ax : matplotlib Axes, optional
        Where to draw; a new figure by default.

    Returns
    -------
    matplotlib Axes
    """
    if measure not in ("importance", "variance_frac"):
        raise InputError(f"measure must be 'importance' or 'variance_frac'; got {measure!r}.")
    effects = [p for p in result.parameters if getattr(p, measure) is not None]
    ax = _axes(ax)
    names = [p.name for p in effects][::-1]
    shown = effects[::-1]
    values = np.array([getattr(p, measure) for p in shown], dtype=float)
    intervals = [getattr(p, f"{measure}_interval") for p in shown]
    bounds = np.array(
        [iv or (v, v) for iv, v in zip(intervals, values, strict=True)], dtype=float
    ).reshape(-1, 2)
    errors = np.vstack([values - bounds[:, 0], bounds[:, 1] - values])
    colors = ["C0" if p.significant else "0.6" for p in effects[::-1]]
    ax.barh(names, values, xerr=np.clip(errors, 0, None), color=colors, capsize=3)
    ax.axvline(0.0, color="black", linewidth=0.8)
    ax.set_xlabel(f"{measure} ({int(100 * (1 - dict(result.settings)['alpha']))}% interval)")
    ax.set_title(f"What drives {result.objective} (grey: no significant effect)")
    return ax


def plot_pathology(table: SweepTable, name: str, kind: str, *, ax: Any = None) -> Any:
    """Plot the probability of problem ``kind`` against parameter ``name``, with its trend."""
    column = f"p_{kind}"
    if column not in table.outcomes.columns:
        raise InputError(
            f"the sweep has no probability of {kind!r} (column {column!r}); "
            f"available: {', '.join(table.problem_columns) or 'none'}."
        )
    ax = plot_parameter(table, name, outcome=column, ax=ax)
    ax.set_ylabel(f"P({kind})")
    return ax
