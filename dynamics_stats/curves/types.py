"""Results of the curve layer: `SmoothedCurve`, `Changepoint`, `GradAnomalies`, `ModelledRun`.

Arrays live here (and only here): detectors read them, results never carry them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from dynamics_stats.core.artifacts import TrainingArtifacts
from dynamics_stats.core.report import ValidationIssue
from dynamics_stats.core.types import BoolArray, FloatArray, IntArray, JSONValue, Role

__all__ = ["Changepoint", "GradAnomalies", "ModelledRun", "SmoothedCurve"]


@dataclass(frozen=True, slots=True, eq=False)
class SmoothedCurve:
    """A metric's smoothed level and slope with standard errors (state-space model).

    Long runs are binned first (robust medians over windows of ``bin_width_steps`` steps)
    so the model never sees more than a fixed number of points.

    Parameters
    ----------
    metric : str
        Source name of the metric.
    role : Role
        Its role.
    log_scale : bool
        Whether the model was fitted to ``log10`` of the values (positive losses, norms
        and learning rates are modelled on the log scale so that the results do not change
        when the metric is multiplied by a constant).
    steps : ndarray of int64
        Step at the centre of each bin (or each raw point when not binned).
    observed : ndarray of float64
        Binned observed values on the modelled scale; NaN where a bin held no finite value.
    level, level_se : ndarray of float64
        Smoothed level and its standard error, on the modelled scale.
    slope, slope_se : ndarray of float64
        Smoothed slope per step and its standard error, on the modelled scale.
    bin_width_steps : float
        Width of a bin in steps (the median raw interval when not binned).
    n_raw_points : int
        Finite raw points the curve was built from.
    method : str
        ``"local_linear_trend"`` (statsmodels UnobservedComponents) or the fallback used.
    converged : bool
        Whether the model fit converged; False means the fallback smoother was used.
    """

    metric: str
    role: Role
    log_scale: bool
    steps: IntArray
    observed: FloatArray
    level: FloatArray
    level_se: FloatArray
    slope: FloatArray
    slope_se: FloatArray
    bin_width_steps: float
    n_raw_points: int
    method: str
    converged: bool


@dataclass(frozen=True, slots=True)
class Changepoint:
    """A step where a curve's behaviour changes.

    Parameters
    ----------
    metric : str
        Source name of the metric.
    step : int
        First step of the new segment.
    probability : float
        BIC-approximated posterior probability of a split here against no split within the
        surrounding segments (equal prior odds): ``1 / (1 + exp(-delta_bic / 2))``.
    delta_bic : float
        BIC of "no split" minus BIC of "split" (positive favours the split).
    level_before, level_after : float
        Mean of the modelled values in the segments before and after.
    """

    metric: str
    step: int
    probability: float
    delta_bic: float
    level_before: float
    level_after: float

    def to_dict(self) -> dict[str, JSONValue]:
        """Return the changepoint as JSON-native values."""
        return {
            "metric": self.metric,
            "step": self.step,
            "probability": self.probability,
            "delta_bic": self.delta_bic,
            "level_before": self.level_before,
            "level_after": self.level_after,
        }


@dataclass(frozen=True, slots=True, eq=False)
class GradAnomalies:
    """Isolation-forest scores of the gradient norm, one per logged point.

    Parameters
    ----------
    metric : str
        Source name of the gradient-norm metric.
    steps : ndarray of int64
        Steps of the scored points (finite, positive norms only).
    scores : ndarray of float64
        Anomaly score in [0, 1] (scikit-learn's ``-score_samples``: higher is more
        anomalous; about 0.5 is ordinary).
    is_anomaly : ndarray of bool
        Points flagged by the forest's ``contamination`` setting.
    features : tuple of str
        Names of the features the forest used.
    """

    metric: str
    steps: IntArray
    scores: FloatArray
    is_anomaly: BoolArray
    features: tuple[str, ...]


@dataclass(frozen=True, slots=True, eq=False)
class ModelledRun:
    """A validated run with its curve models: what every detector receives.

    Parameters
    ----------
    artifacts : TrainingArtifacts
        The validated run.
    curves : mapping of str to SmoothedCurve
        Smoothed curves by metric name, for the primary metric of each modelled role.
    changepoints : mapping of str to tuple of Changepoint
        Changepoints by metric name.
    grad_anomalies : GradAnomalies or None
        Isolation-forest scores when a gradient norm is logged.
    notes : tuple of ValidationIssue
        Fits that failed or fell back, and roles that could not be modelled.
    """

    artifacts: TrainingArtifacts
    curves: Mapping[str, SmoothedCurve] = field(default_factory=dict)
    changepoints: Mapping[str, tuple[Changepoint, ...]] = field(default_factory=dict)
    grad_anomalies: GradAnomalies | None = None
    notes: tuple[ValidationIssue, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "curves", MappingProxyType(dict(self.curves)))
        object.__setattr__(self, "changepoints", MappingProxyType(dict(self.changepoints)))

    def curve(self, role: Role) -> SmoothedCurve | None:
        """Return the smoothed curve of the primary metric of ``role``, if modelled."""
        name = self.artifacts.primary.get(role)
        return None if name is None else self.curves.get(name)
