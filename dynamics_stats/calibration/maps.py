"""Calibration maps: one fitted calibrator per problem kind, saved as versioned JSON."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import MappingProxyType

import numpy as np

from dynamics_stats.calibration.isotonic import IsotonicCalibrator
from dynamics_stats.calibration.platt import PlattCalibrator
from dynamics_stats.core.errors import LoadError
from dynamics_stats.core.results import CalibrationInfo

__all__ = ["CalibrationMap", "Calibrator", "calibrator_from_dict", "load_map", "provisional_map"]

Calibrator = PlattCalibrator | IsotonicCalibrator


def calibrator_from_dict(data: dict[str, object]) -> Calibrator:
    """Rebuild a fitted calibrator from its JSON form (by its ``method``)."""
    method = data.get("method")
    if method == "platt":
        return PlattCalibrator.from_dict(data)  # type: ignore[arg-type]
    if method == "isotonic":
        return IsotonicCalibrator.from_dict(data)  # type: ignore[arg-type]
    raise LoadError(f"unknown calibrator method {method!r}; expected 'platt' or 'isotonic'.")


_SHIPPED = "default.json"


@dataclass(frozen=True, slots=True, eq=False)
class CalibrationMap:
    """Fitted score-to-probability maps for the kinds that have labelled data.

    Parameters
    ----------
    info : CalibrationInfo
        Name, version, whether fitted, and what the probabilities mean.
    calibrators : mapping of str to PlattCalibrator or IsotonicCalibrator
        Kind -> fitted calibrator. Kinds without one get no probability.
    corpus_hash : str, default=""
        Hash of the labelled corpus the maps were fitted on.
    created : str, default=""
        ISO date of the fit.
    """

    info: CalibrationInfo
    calibrators: Mapping[str, Calibrator] = field(default_factory=dict)
    corpus_hash: str = ""
    created: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "calibrators", MappingProxyType(dict(self.calibrators)))

    def probability(self, kind: str, score: float) -> float | None:
        """Return the calibrated probability of ``kind`` for a raw score (None if no map)."""
        calibrator = self.calibrators.get(kind)
        if calibrator is None:
            return None
        return float(calibrator.predict(np.array([score]))[0])

    def prior(self, kind: str) -> float | None:
        """Return the base rate of ``kind`` in the corpus the map was fitted on."""
        calibrator = self.calibrators.get(kind)
        return None if calibrator is None else calibrator.base_rate_

    def to_dict(self) -> dict[str, object]:
        """Return the map as JSON-native values."""
        return {
            "info": self.info.to_dict(),
            "corpus_hash": self.corpus_hash,
            "created": self.created,
            "calibrators": {k: c.to_dict() for k, c in self.calibrators.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> CalibrationMap:
        """Rebuild a map written by `to_dict`."""
        raw = data["calibrators"]
        if not isinstance(raw, dict):
            raise LoadError("a calibration map needs a 'calibrators' object.")
        return cls(
            info=CalibrationInfo.from_dict(data["info"]),  # type: ignore[arg-type]
            calibrators={k: calibrator_from_dict(v) for k, v in raw.items()},
            corpus_hash=str(data.get("corpus_hash", "")),
            created=str(data.get("created", "")),
        )


def provisional_map(kinds: tuple[str, ...]) -> CalibrationMap:
    """Return the explicit provisional mapping used when no fitted map is available.

    Each kind's raw score ``s`` maps to ``1 / (1 + exp(-4 (t(s) - t(1))))`` with
    ``t(s) = sign(s) log1p(|s|)``: detectors put their "present" threshold at score 1, so
    scores above 1 map above 0.5. This is NOT calibrated; results say so.
    """
    calibrators = {}
    for kind in kinds:
        cal = PlattCalibrator()
        cal.coef_, cal.intercept_ = 4.0, -4.0 * math.log1p(1.0)
        cal.n_samples_, cal.base_rate_ = 1, 0.5
        calibrators[kind] = cal
    info = CalibrationInfo(
        name="none",
        version="provisional",
        calibrated=False,
        description="Provisional monotone map of raw scores (no fitted calibration): "
        "values order runs by evidence but are not calibrated probabilities.",
    )
    return CalibrationMap(info=info, calibrators=calibrators)


def load_map(path: str | Path | None = None, *, kinds: tuple[str, ...] = ()) -> CalibrationMap:
    """Load a calibration map: a JSON file, or the one shipped in the package.

    Parameters
    ----------
    path : str, pathlib.Path or None, default=None
        A map written by ``CalibrationMap.to_dict``; None loads the shipped map.
    kinds : tuple of str, default=()
        Kinds for the provisional mapping used when nothing is shipped.

    Raises
    ------
    LoadError
        If ``path`` is given and cannot be read as a map.
    """
    if path is None:
        shipped = resources.files("dynamics_stats.calibration") / "maps" / _SHIPPED
        if not shipped.is_file():
            return provisional_map(kinds)
        return CalibrationMap.from_dict(json.loads(shipped.read_text()))
    try:
        return CalibrationMap.from_dict(json.loads(Path(path).read_text()))
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise LoadError(
            f"cannot read the calibration map '{path}': {err}. Pass a file written by "
            "CalibrationMap.to_dict (e.g. by calibration/fit.py)."
        ) from err
