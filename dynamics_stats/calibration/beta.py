"""`BetaCalibrator`: three-parameter beta calibration of a detector's raw score."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from dynamics_stats.core._checks import check_float
from dynamics_stats.core.errors import InputError, NotFittedError
from dynamics_stats.core.types import FloatArray, JSONValue

__all__ = ["BetaCalibrator"]

_EPS = 1e-6


def _beta_features(scores: FloatArray) -> FloatArray:
    """Return ``[ln u, -ln(1 - u)]`` with ``u = s / (1 + s)`` for ``s = max(score, 0)``."""
    s = np.nan_to_num(np.asarray(scores, float), nan=0.0, posinf=1e6, neginf=0.0)
    u = np.clip(np.maximum(s, 0.0) / (1.0 + np.maximum(s, 0.0)), _EPS, 1.0 - _EPS)
    return np.column_stack([np.log(u), -np.log1p(-u)])


@dataclass
class BetaCalibrator:
    """Beta calibration (Kull, Silva Filho and Flach, 2017) of non-negative raw scores.

    The raw score ``s >= 0`` is first mapped into the unit interval by ``u = s / (1 + s)``,
    then ``p = 1 / (1 + exp(-(a ln u - b ln(1 - u) + c)))``. With ``a, b >= 0`` the map is
    non-decreasing; when the unconstrained fit gives a negative coefficient, that feature is
    dropped and the fit repeated, as the authors recommend.

    Parameters
    ----------
    regularization : float, default=1.0
        Inverse L2 strength ``C`` of the logistic fit.

    Attributes
    ----------
    coef_ : tuple of float
        ``(a, b)``.
    intercept_ : float
        ``c``.
    n_samples_ : int
        Runs the map was fitted on.
    base_rate_ : float
        Fraction of positives among them (the prior).

    Notes
    -----
    Beta calibration contains Platt scaling on ``logit(u)`` (``a = b``) and can also bend the
    map, which suits scores that saturate near 0 or pile up at a detector's cap.

    Examples
    --------
    >>> import numpy as np
    >>> cal = BetaCalibrator().fit(np.array([0.0, 0.1, 0.2, 2.0, 3.0, 4.0]),
    ...                            np.array([0, 0, 0, 1, 1, 1]))
    >>> bool(cal.predict(np.array([3.5]))[0] > 0.5 > cal.predict(np.array([0.05]))[0])
    True
    """

    regularization: float = 1.0
    coef_: tuple[float, float] = field(init=False, default=(float("nan"), float("nan")))
    intercept_: float = field(init=False, default=float("nan"))
    n_samples_: int = field(init=False, default=0)
    base_rate_: float = field(init=False, default=float("nan"))

    def __post_init__(self) -> None:
        check_float(self, "regularization", low=0.0, low_open=True)

    def fit(
        self, scores: FloatArray, labels: FloatArray, *, sample_weight: FloatArray | None = None
    ) -> BetaCalibrator:
        """Fit the map on raw scores and 0/1 labels.

        Raises
        ------
        InputError
            If lengths differ or only one class is present.
        """
        from sklearn.linear_model import LogisticRegression

        x, y = _beta_features(scores), np.asarray(labels, int)
        if len(x) != len(y) or len(np.unique(y)) < 2:
            raise InputError(
                f"BetaCalibrator.fit needs equal-length scores and labels with both classes; "
                f"got {len(x)} scores, {len(y)} labels, classes {sorted(set(y.tolist()))}."
            )
        keep = [0, 1]
        for _ in range(2):
            model = LogisticRegression(C=self.regularization).fit(
                x[:, keep], y, sample_weight=sample_weight
            )
            coef = dict(zip(keep, model.coef_[0], strict=True))
            negative = [k for k, v in coef.items() if v < 0]
            if not negative or len(keep) == 1:
                break
            keep = [k for k in keep if k not in negative] or [0]
        self.coef_ = (max(coef.get(0, 0.0), 0.0), max(coef.get(1, 0.0), 0.0))
        self.intercept_ = float(model.intercept_[0])
        self.n_samples_ = len(y)
        self.base_rate_ = float(np.average(y, weights=sample_weight))
        return self

    def predict(self, scores: FloatArray) -> FloatArray:
        """Return calibrated probabilities; `NotFittedError` before fitting."""
        if not self.n_samples_:
            raise NotFittedError("BetaCalibrator is not fitted; call fit() or from_dict() first.")
        z = _beta_features(scores) @ np.asarray(self.coef_, float) + self.intercept_
        return np.asarray(1.0 / (1.0 + np.exp(-z)), float)

    def to_dict(self) -> dict[str, JSONValue]:
        """Return the fitted map as JSON-native values."""
        if not self.n_samples_:
            raise NotFittedError("BetaCalibrator is not fitted; nothing to save.")
        return {
            "method": "beta",
            "regularization": self.regularization,
            "coef": [float(v) for v in self.coef_],
            "intercept": self.intercept_,
            "n_samples": self.n_samples_,
            "base_rate": self.base_rate_,
        }

    @classmethod
    def from_dict(cls, data: dict[str, JSONValue]) -> BetaCalibrator:
        """Rebuild a fitted map written by `to_dict`."""
        cal = cls(regularization=float(data["regularization"]))  # type: ignore[arg-type]
        coef = data["coef"]
        if not isinstance(coef, list) or len(coef) != 2:
            raise InputError(f"a beta calibrator needs 'coef' = [a, b]; got {coef!r}.")
        cal.coef_ = (float(coef[0]), float(coef[1]))  # type: ignore[arg-type]
        cal.intercept_ = float(data["intercept"])  # type: ignore[arg-type]
        cal.n_samples_ = int(data["n_samples"])  # type: ignore[arg-type]
        cal.base_rate_ = float(data["base_rate"])  # type: ignore[arg-type]
        return cal
