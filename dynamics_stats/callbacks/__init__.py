"""Real-time monitoring inside training (Lightning and Hugging Face callbacks).

``LightningMonitor`` and ``HFMonitor`` import their framework only when first used, so
``import dynamics_stats.callbacks`` works without Lightning or transformers installed.

Examples
--------
>>> from dynamics_stats.callbacks import MonitorConfig
>>> MonitorConfig().analysis_every_n_steps
500
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from dynamics_stats.callbacks.alerts import LOGGER_NAME, Alert
from dynamics_stats.callbacks.config import MonitorConfig
from dynamics_stats.callbacks.monitor import MonitorActions, TrainingMonitor

if TYPE_CHECKING:
    from dynamics_stats.callbacks.hf import HFMonitor
    from dynamics_stats.callbacks.lightning import LightningMonitor

__all__ = [
    "Alert",
    "HFMonitor",
    "LOGGER_NAME",
    "LightningMonitor",
    "MonitorActions",
    "MonitorConfig",
    "TrainingMonitor",
]

# class name -> (module, package to import, extra to install)
_LAZY = {
    "LightningMonitor": ("dynamics_stats.callbacks.lightning", "lightning", "lightning"),
    "HFMonitor": ("dynamics_stats.callbacks.hf", "transformers", "hf"),
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'dynamics_stats.callbacks' has no attribute {name!r}")
    module_name, package, extra = _LAZY[name]
    try:
        importlib.import_module(package)
    except ImportError as err:
        raise ImportError(
            f"dynamics_stats.callbacks.{name} needs the '{package}' package, which could not "
            f'be imported ({err}). Install the extra: pip install "dynamics_stats[{extra}]".'
        ) from err
    return getattr(importlib.import_module(module_name), name)
