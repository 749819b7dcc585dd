"""Calibration: from detectors' raw scores to probabilities."""

from __future__ import annotations

from dynamics_stats.calibration.apply import Calibrated, calibrate
from dynamics_stats.calibration.isotonic import IsotonicCalibrator
from dynamics_stats.calibration.maps import CalibrationMap, load_map, provisional_map
from dynamics_stats.calibration.platt import PlattCalibrator

__all__ = [
    "Calibrated",
    "CalibrationMap",
    "IsotonicCalibrator",
    "PlattCalibrator",
    "calibrate",
    "load_map",
    "provisional_map",
]
