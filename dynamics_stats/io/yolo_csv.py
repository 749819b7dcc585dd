"""Placeholder: the yolo_csv loader is being written."""

from __future__ import annotations

from pathlib import Path

from dynamics_stats.core.errors import LoadError
from dynamics_stats.core.run_log import RunLog
from dynamics_stats.io._base import LoaderSpec, LoadOptions


def _sniff(path: Path) -> bool:
    return False


def _load(path: Path, options: LoadOptions) -> RunLog:
    raise LoadError("the yolo_csv loader is not written yet")


SPEC = LoaderSpec(format="yolo_csv", description="yolo_csv", sniff=_sniff, load=_load)
