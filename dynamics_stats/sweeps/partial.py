"""Partial rank correlations: each numeric parameter against an outcome, others held fixed."""

from __future__ import annotations

import numpy as np
from scipy import stats

from dynamics_stats.core.types import FloatArray
from dynamics_stats.sweeps._encoding import EncodedParameter

__all__ = ["partial_rank_correlations"]


def _residuals(target: FloatArray, design: FloatArray) -> FloatArray:
    coef, *_ = np.linalg.lstsq(design, target, rcond=None)
    return np.asarray(target - design @ coef, dtype=float)


def partial_rank_correlations(
    params: tuple[EncodedParameter, ...], y: FloatArray
) -> dict[str, float | None]:
    """Return the partial Spearman correlation of each numeric or boolean parameter with ``y``.

    Parameters
    ----------
    params : tuple of EncodedParameter
        The encoded parameters; categoricals are skipped (None).
    y : ndarray of float
        Outcome per run, NaN when missing.

    Returns
    -------
    dict of str to float or None
        None when the parameter is categorical or too few runs remain
        (fewer than 3 residual degrees of freedom).

    Notes
    -----
    On the runs where the parameter and ``y`` are present, the ranks of the parameter and of
    ``y`` are each regressed (least squares, with intercept) on the ranks of the other numeric
    parameters (missing values imputed with the median), and the residuals are correlated.
    """
    numeric = [p for p in params if p.values is not None]
    filled = {
        p.name: np.where(np.isfinite(p.values), p.values, np.nanmedian(p.values))
        for p in numeric
        if p.values is not None
    }
    out: dict[str, float | None] = {p.name: None for p in params}
    for param in numeric:
        values = param.values if param.values is not None else np.full(y.size, np.nan)
        rows = np.isfinite(values) & np.isfinite(y)
        others = [stats.rankdata(filled[q.name][rows]) for q in numeric if q is not param]
        design = np.column_stack([np.ones(int(rows.sum())), *others])
        if rows.sum() - design.shape[1] - 1 < 3:
            continue
        rx = _residuals(stats.rankdata(values[rows]), design)
        ry = _residuals(stats.rankdata(y[rows]), design)
        denom = float(np.sqrt((rx @ rx) * (ry @ ry)))
        out[param.name] = float(rx @ ry / denom) if denom > 1e-12 else None
    return out
