"""Calibration maps: one fitted calibrator per problem kind, saved as versioned JSON."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import MappingProxyType

import numpy as np

from dynamics_stats.calibration._store import feedback_home
from dynamics_stats.calibration.beta import BetaCalibrator
from dynamics_stats.calibration.isotonic import IsotonicCalibrator
from dynamics_stats.calibration.multi import MultiScoreCalibrator
from dynamics_stats.calibration.platt import PlattCalibrator
from dynamics_stats.core.errors import InputError, LoadError
from dynamics_stats.core.results import CalibrationInfo

__all__ = [
    "SHIPPED",
    "USER_MAPS_ENV",
    "CalibrationMap",
    "Calibrator",
    "calibrator_from_dict",
    "load_map",
    "provisional_map",
    "remove_user_map",
    "user_map_path",
    "user_maps_enabled",
    "write_user_map",
]

Calibrator = PlattCalibrator | IsotonicCalibrator | BetaCalibrator | MultiScoreCalibrator


def calibrator_from_dict(data: dict[str, object]) -> Calibrator:
    """Rebuild a fitted calibrator from its JSON form (by its ``method``)."""
    method = data.get("method")
    if method == "platt":
        return PlattCalibrator.from_dict(data)  # type: ignore[arg-type]
    if method == "isotonic":
        return IsotonicCalibrator.from_dict(data)  # type: ignore[arg-type]
    if method == "beta":
        return BetaCalibrator.from_dict(data)  # type: ignore[arg-type]
    if method == "multi":
        return MultiScoreCalibrator.from_dict(data)  # type: ignore[arg-type]
    raise LoadError(
        f"unknown calibrator method {method!r}; expected 'platt', 'isotonic', 'beta' or 'multi'."
    )


_SHIPPED = "default.json"
#: Value of ``path`` (and of ``TrainingDynamicsConfig.calibration``) that asks for the
#: shipped map even when the user has refitted maps on their own labels.
SHIPPED = "shipped"
#: Environment variable; "0", "no", "off" or "false" turns the user's maps off.
USER_MAPS_ENV = "DYNAMICS_STATS_USER_MAPS"


def user_map_path() -> Path:
    """Return where ``dynamics-stats calibrate --with-feedback`` writes the user's maps."""
    return feedback_home() / "calibration" / "user.json"


def user_maps_enabled() -> bool:
    """Return False when ``$DYNAMICS_STATS_USER_MAPS`` turns the user's maps off."""
    return os.environ.get(USER_MAPS_ENV, "1").strip().lower() not in ("0", "no", "off", "false")


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

    def probability(
        self, kind: str, score: float, *, all_scores: Mapping[str, float] | None = None
    ) -> float | None:
        """Return the calibrated probability of ``kind`` for a raw score (None if no map).

        A multi-score map also reads the other kinds' raw scores from ``all_scores``.
        """
        calibrator = self.calibrators.get(kind)
        if calibrator is None:
            return None
        if isinstance(calibrator, MultiScoreCalibrator):
            return calibrator.predict_mapping({**(all_scores or {}), kind: score})
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


def _shipped_map(kinds: tuple[str, ...]) -> CalibrationMap:
    shipped = resources.files("dynamics_stats.calibration") / "maps" / _SHIPPED
    if not shipped.is_file():
        return provisional_map(kinds)
    return CalibrationMap.from_dict(json.loads(shipped.read_text()))


def _read_map(path: str | Path, hint: str) -> CalibrationMap:
    try:
        return CalibrationMap.from_dict(json.loads(Path(path).read_text()))
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise LoadError(f"cannot read the calibration map '{path}': {err}. {hint}") from err


def load_map(path: str | Path | None = None, *, kinds: tuple[str, ...] = ()) -> CalibrationMap:
    """Load a calibration map: a JSON file, the user's refitted maps, or the shipped one.

    Parameters
    ----------
    path : str, pathlib.Path or None, default=None
        A map written by ``CalibrationMap.to_dict``; ``"shipped"`` for the map shipped in
        the package; None for the user's maps (`user_map_path`) when they exist and
        ``$DYNAMICS_STATS_USER_MAPS`` does not turn them off, else the shipped map.
    kinds : tuple of str, default=()
        Kinds for the provisional mapping used when nothing is shipped.

    Returns
    -------
    CalibrationMap
        Its ``info`` names the version, e.g. ``user-2026-11-27+synthetic-v1``.

    Raises
    ------
    LoadError
        If ``path`` or the user's map exists but cannot be read as a map.
    """
    if path == SHIPPED:
        return _shipped_map(kinds)
    if path is None:
        user = user_map_path()
        if user_maps_enabled() and user.is_file():
            return _read_map(
                user,
                "Refit it with 'dynamics-stats calibrate --with-feedback', remove it with "
                f"'dynamics-stats calibrate --reset', or set {USER_MAPS_ENV}=0.",
            )
        return _shipped_map(kinds)
    return _read_map(
        path, "Pass a file written by CalibrationMap.to_dict (e.g. by calibration/fit.py)."
    )


def write_user_map(cmap: CalibrationMap) -> Path:
    """Write ``cmap`` as the user's maps (`user_map_path`), replacing any earlier ones.

    Raises
    ------
    InputError
        If the user folder is not writable.
    """
    target = user_map_path()
    partial = target.with_suffix(".json.partial")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        partial.write_text(json.dumps(cmap.to_dict(), indent=1, allow_nan=False) + "\n")
        partial.replace(target)
    except OSError as err:
        raise InputError(
            f"cannot write the user calibration map '{target}': {err.strerror}. Set "
            "DYNAMICS_STATS_HOME to a writable folder."
        ) from err
    return target


def remove_user_map() -> Path | None:
    """Delete the user's maps so the shipped map is used again; return the removed path."""
    target = user_map_path()
    if not target.is_file():
        return None
    target.unlink()
    return target
