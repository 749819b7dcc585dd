"""`MultiScoreCalibrator`: a small logistic model over every kind's raw score."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from dynamics_stats.calibration.platt import PlattCalibrator
from dynamics_stats.core._checks import check_float
from dynamics_stats.core.errors import InputError, NotFittedError
from dynamics_stats.core.types import FloatArray, JSONValue

__all__ = ["MultiScoreCalibrator"]


@dataclass
class MultiScoreCalibrator:
    """Probability of one kind from the raw scores of several kinds' detectors.

    ``p = 1 / (1 + exp(-(w . t(s) + b)))`` with ``t(s) = sign(s) log1p(|s|)`` applied to each
    kind's score (a kind its detectors did not assess counts as score 0). Other detectors'
    scores can tell apart look-alikes, e.g. a stall caused by vanishing gradients.

    Parameters
    ----------
    kinds : tuple of str
        The score columns, in order.
    regularization : float, default=1.0
        Inverse L2 strength ``C`` of the logistic fit.

    Attributes
    ----------
    coef_ : tuple of float
        One weight per kind.
    intercept_ : float
    n_samples_ : int
    base_rate_ : float

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[0.0, 1.0], [0.1, 0.0], [3.0, 0.2], [4.0, 1.0]])
    >>> cal = MultiScoreCalibrator(kinds=("a", "b")).fit(x, np.array([0, 0, 1, 1]))
    >>> bool(cal.predict_mapping({"a": 3.5, "b": 0.0}) > 0.5)
    True
    """

    kinds: tuple[str, ...] = ()
    regularization: float = 1.0
    coef_: tuple[float, ...] = field(init=False, default=())
    intercept_: float = field(init=False, default=float("nan"))
    n_samples_: int = field(init=False, default=0)
    base_rate_: float = field(init=False, default=float("nan"))

    def __post_init__(self) -> None:
        check_float(self, "regularization", low=0.0, low_open=True)

    def _features(self, scores: FloatArray) -> FloatArray:
        x = np.asarray(scores, float)
        if x.ndim != 2 or x.shape[1] != len(self.kinds):
            raise InputError(
                f"MultiScoreCalibrator needs a 2-D score array with one column per kind "
                f"{self.kinds}; got shape {x.shape}."
            )
        return np.column_stack([PlattCalibrator.transform(x[:, j]) for j in range(x.shape[1])])

    def fit(
        self, scores: FloatArray, labels: FloatArray, *, sample_weight: FloatArray | None = None
    ) -> MultiScoreCalibrator:
        """Fit on an ``(n_runs, n_kinds)`` score array and 0/1 labels.

        Raises
        ------
        InputError
            If the shapes disagree or only one class is present.
        """
        from sklearn.linear_model import LogisticRegression

        x, y = self._features(scores), np.asarray(labels, int)
        if len(x) != len(y) or len(np.unique(y)) < 2:
            raise InputError(
                "MultiScoreCalibrator.fit needs as many labels as score rows, with both "
                f"classes; got {len(x)} rows, {len(y)} labels."
            )
        model = LogisticRegression(C=self.regularization, max_iter=1000)
        model.fit(x, y, sample_weight=sample_weight)
        self.coef_ = tuple(float(v) for v in model.coef_[0])
        self.intercept_ = float(model.intercept_[0])
        self.n_samples_ = len(y)
        self.base_rate_ = float(np.average(y, weights=sample_weight))
        return self

    def predict(self, scores: FloatArray) -> FloatArray:
        """Return probabilities for an ``(n_runs, n_kinds)`` score array."""
        if not self.n_samples_:
            raise NotFittedError("MultiScoreCalibrator is not fitted; call fit() or from_dict().")
        z = self._features(scores) @ np.asarray(self.coef_, float) + self.intercept_
        return np.asarray(1.0 / (1.0 + np.exp(-z)), float)

    def predict_mapping(self, scores: Mapping[str, float]) -> float:
        """Return the probability for one run given ``{kind: raw score}`` (missing -> 0)."""
        row = [scores.get(kind, math.nan) for kind in self.kinds]
        return float(self.predict(np.array([row], float))[0])

    def to_dict(self) -> dict[str, JSONValue]:
        """Return the fitted model as JSON-native values."""
        if not self.n_samples_:
            raise NotFittedError("MultiScoreCalibrator is not fitted; nothing to save.")
        return {
            "method": "multi",
            "kinds": list(self.kinds),
            "regularization": self.regularization,
            "coef": list(self.coef_),
            "intercept": self.intercept_,
            "n_samples": self.n_samples_,
            "base_rate": self.base_rate_,
        }

    @classmethod
    def from_dict(cls, data: dict[str, JSONValue]) -> MultiScoreCalibrator:
        """Rebuild a fitted model written by `to_dict`."""
        cal = cls(
            kinds=tuple(str(k) for k in data["kinds"]),  # type: ignore[union-attr]
            regularization=float(data["regularization"]),  # type: ignore[arg-type]
        )
        cal.coef_ = tuple(float(v) for v in data["coef"])  # type: ignore[arg-type, union-attr]
        cal.intercept_ = float(data["intercept"])  # type: ignore[arg-type]
        cal.n_samples_ = int(data["n_samples"])  # type: ignore[arg-type]
        cal.base_rate_ = float(data["base_rate"])  # type: ignore[arg-type]
        return cal
