"""`IsotonicCalibrator`: a monotone step map from raw score to probability."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from dynamics_stats.core.errors import InputError, NotFittedError
from dynamics_stats.core.types import FloatArray, JSONValue

__all__ = ["IsotonicCalibrator"]


@dataclass
class IsotonicCalibrator:
    """Isotonic regression of labels on raw scores (scikit-learn), saved as its breakpoints.

    Parameters
    ----------
    floor : float, default=0.005
        Probabilities are kept in ``[floor, 1 - floor]``: a finite calibration set cannot
        justify certainty.

    Attributes
    ----------
    x_, y_ : ndarray of float64
        Breakpoints of the fitted non-decreasing map (linear interpolation between them,
        clipped outside).
    n_samples_ : int
        Runs the map was fitted on.
    base_rate_ : float
        Fraction of positives among them.

    Examples
    --------
    >>> cal = IsotonicCalibrator().fit(np.array([0.0, 1.0, 2.0, 3.0]), np.array([0, 0, 1, 1]))
    >>> cal.predict(np.array([0.5, 2.5])).round(3).tolist()
    [0.005, 0.995]
    """

    floor: float = 0.005
    x_: FloatArray = field(init=False, default_factory=lambda: np.zeros(0))
    y_: FloatArray = field(init=False, default_factory=lambda: np.zeros(0))
    n_samples_: int = field(init=False, default=0)
    base_rate_: float = field(init=False, default=float("nan"))

    def fit(
        self, scores: FloatArray, labels: FloatArray, *, sample_weight: FloatArray | None = None
    ) -> IsotonicCalibrator:
        """Fit the map (optionally weighted per run); raises `InputError` without both classes."""
        from sklearn.isotonic import IsotonicRegression

        x = np.nan_to_num(np.asarray(scores, float), nan=0.0, posinf=1e6, neginf=-1e6)
        y = np.asarray(labels, float)
        if len(np.unique(y)) < 2:
            raise InputError("IsotonicCalibrator.fit needs both classes among the labels.")
        model = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0)
        model.fit(x, y, sample_weight=sample_weight)
        self.x_ = np.asarray(model.X_thresholds_, float)
        self.y_ = np.asarray(model.y_thresholds_, float)
        self.n_samples_ = len(y)
        self.base_rate_ = float(np.average(y, weights=sample_weight))
        return self

    def predict(self, scores: FloatArray) -> FloatArray:
        """Return calibrated probabilities; `NotFittedError` before fitting."""
        if not self.n_samples_:
            raise NotFittedError("IsotonicCalibrator is not fitted; call fit() or from_dict().")
        x = np.nan_to_num(np.asarray(scores, float), nan=0.0, posinf=1e6, neginf=-1e6)
        p = np.interp(x, self.x_, self.y_)
        return np.asarray(np.clip(p, self.floor, 1.0 - self.floor), float)

    def to_dict(self) -> dict[str, JSONValue]:
        """Return the fitted map as JSON-native values."""
        if not self.n_samples_:
            raise NotFittedError("IsotonicCalibrator is not fitted; nothing to save.")
        return {
            "method": "isotonic",
            "floor": self.floor,
            "x": [float(v) for v in self.x_],
            "y": [float(v) for v in self.y_],
            "n_samples": self.n_samples_,
            "base_rate": self.base_rate_,
        }

    @classmethod
    def from_dict(cls, data: dict[str, JSONValue]) -> IsotonicCalibrator:
        """Rebuild a fitted map written by `to_dict`."""
        cal = cls(floor=float(data["floor"]))  # type: ignore[arg-type]
        cal.x_ = np.asarray(data["x"], float)
        cal.y_ = np.asarray(data["y"], float)
        cal.n_samples_ = int(data["n_samples"])  # type: ignore[arg-type]
        cal.base_rate_ = float(data["base_rate"])  # type: ignore[arg-type]
        return cal
