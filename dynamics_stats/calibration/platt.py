"""`PlattCalibrator`: a logistic map from a detector's raw score to a probability."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from dynamics_stats.core._checks import check_float
from dynamics_stats.core.errors import InputError, NotFittedError
from dynamics_stats.core.types import FloatArray, JSONValue

__all__ = ["PlattCalibrator"]


@dataclass
class PlattCalibrator:
    """Platt scaling: ``p = 1 / (1 + exp(-(a * t(score) + b)))``.

    ``t`` is ``sign(s) * log1p(|s|)``, which keeps heavy-tailed raw scores from dominating
    the fit. Parameters follow scikit-learn's estimator contract: options in ``__init__``,
    `fit` returns self, fitted attributes end in ``_``.

    Parameters
    ----------
    regularization : float, default=1.0
        Inverse L2 strength ``C`` of the logistic fit (scikit-learn's meaning).

    Attributes
    ----------
    coef_ : float
        Slope ``a`` on the transformed score.
    intercept_ : float
        Intercept ``b``.
    n_samples_ : int
        Runs the map was fitted on.
    base_rate_ : float
        Fraction of positives among them (the prior).

    Examples
    --------
    >>> import numpy as np
    >>> scores = np.array([0.0, 0.1, 0.2, 2.0, 3.0, 4.0])
    >>> labels = np.array([0, 0, 0, 1, 1, 1])
    >>> cal = PlattCalibrator().fit(scores, labels)
    >>> bool(cal.predict(np.array([3.5]))[0] > 0.5 > cal.predict(np.array([0.05]))[0])
    True
    """

    regularization: float = 1.0
    coef_: float = field(init=False, default=float("nan"))
    intercept_: float = field(init=False, default=float("nan"))
    n_samples_: int = field(init=False, default=0)
    base_rate_: float = field(init=False, default=float("nan"))

    def __post_init__(self) -> None:
        check_float(self, "regularization", low=0.0, low_open=True)

    @staticmethod
    def transform(scores: FloatArray) -> FloatArray:
        """Return the transformed scores ``sign(s) * log1p(|s|)`` (NaN -> 0)."""
        clean = np.nan_to_num(np.asarray(scores, float), nan=0.0, posinf=1e6, neginf=-1e6)
        return np.asarray(np.sign(clean) * np.log1p(np.abs(clean)), float)

    def fit(
        self, scores: FloatArray, labels: FloatArray, *, sample_weight: FloatArray | None = None
    ) -> PlattCalibrator:
        """Fit the map on raw scores and 0/1 labels (optionally weighted per run).

        Raises
        ------
        InputError
            If lengths differ or only one class is present.
        """
        from sklearn.linear_model import LogisticRegression

        x = self.transform(scores).reshape(-1, 1)
        y = np.asarray(labels, int)
        if len(x) != len(y) or len(np.unique(y)) < 2:
            raise InputError(
                f"PlattCalibrator.fit needs equal-length scores and labels with both classes; "
                f"got {len(x)} scores, {len(y)} labels, classes {sorted(set(y.tolist()))}."
            )
        model = LogisticRegression(C=self.regularization).fit(x, y, sample_weight=sample_weight)
        self.coef_ = float(model.coef_[0, 0])
        self.intercept_ = float(model.intercept_[0])
        self.n_samples_ = len(y)
        self.base_rate_ = float(np.average(y, weights=sample_weight))
        return self

    def predict(self, scores: FloatArray) -> FloatArray:
        """Return calibrated probabilities for raw scores.

        Raises
        ------
        NotFittedError
            If called before `fit` or `from_dict`.
        """
        if not self.n_samples_:
            raise NotFittedError("PlattCalibrator is not fitted; call fit() or from_dict() first.")
        z = self.coef_ * self.transform(scores) + self.intercept_
        return np.asarray(1.0 / (1.0 + np.exp(-z)), float)

    def to_dict(self) -> dict[str, JSONValue]:
        """Return the fitted map as JSON-native values."""
        if not self.n_samples_:
            raise NotFittedError("PlattCalibrator is not fitted; nothing to save.")
        return {
            "method": "platt",
            "regularization": self.regularization,
            "coef": self.coef_,
            "intercept": self.intercept_,
            "n_samples": self.n_samples_,
            "base_rate": self.base_rate_,
        }

    @classmethod
    def from_dict(cls, data: dict[str, JSONValue]) -> PlattCalibrator:
        """Rebuild a fitted map written by `to_dict`."""
        cal = cls(regularization=float(data["regularization"]))  # type: ignore[arg-type]
        cal.coef_ = float(data["coef"])  # type: ignore[arg-type]
        cal.intercept_ = float(data["intercept"])  # type: ignore[arg-type]
        cal.n_samples_ = int(data["n_samples"])  # type: ignore[arg-type]
        cal.base_rate_ = float(data["base_rate"])  # type: ignore[arg-type]
        return cal
