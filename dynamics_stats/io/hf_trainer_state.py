"""Placeholder: the hf_trainer_state loader is being written."""

from __future__ import annotations

from pathlib import Path

from dynamics_stats.core.errors import LoadError
from dynamics_stats.core.run_log import RunLog
from dynamics_stats.io._base import LoaderSpec, LoadOptions


def _sniff(path: Path) -> bool:
    return False


def _load(path: Path, options: LoadOptions) -> RunLog:
    raise LoadError("the hf_trainer_state loader is not written yet")


SPEC = LoaderSpec(format="hf_trainer_state", description="hf_trainer_state", sniff=_sniff, load=_load)
