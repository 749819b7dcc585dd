"""Curve models: state-space smoothing, changepoints, gradient-norm anomalies."""

from __future__ import annotations

from dynamics_stats.curves._binning import bin_series
from dynamics_stats.curves.anomalies import score_grad_norms
from dynamics_stats.curves.changepoints import find_changepoints
from dynamics_stats.curves.model import model_curves
from dynamics_stats.curves.smoothing import slope_probability, smooth_curve
from dynamics_stats.curves.types import Changepoint, GradAnomalies, ModelledRun, SmoothedCurve

__all__ = [
    "Changepoint",
    "GradAnomalies",
    "ModelledRun",
    "SmoothedCurve",
    "bin_series",
    "find_changepoints",
    "model_curves",
    "score_grad_norms",
    "slope_probability",
    "smooth_curve",
]
