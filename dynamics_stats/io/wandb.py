"""Placeholder: the wandb loader is being written."""

from __future__ import annotations

from pathlib import Path

from dynamics_stats.core.errors import LoadError
from dynamics_stats.core.run_log import RunLog
from dynamics_stats.io._base import LoaderSpec, LoadOptions


def _sniff(path: Path) -> bool:
    return False


def _load(path: Path, options: LoadOptions) -> RunLog:
    raise LoadError("the wandb loader is not written yet")


SPEC = LoaderSpec(format="wandb", description="wandb", sniff=_sniff, load=_load)
EXPORT_SPEC = LoaderSpec(format="wandb_export", description="wandb", sniff=_sniff, load=_load)
