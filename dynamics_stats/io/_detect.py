"""Tell a log's format from its path: `detect_format`."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from dynamics_stats.core.errors import LoadError
from dynamics_stats.io._base import LoaderSpec

__all__ = ["detect_format"]

#: Files that sit beside logs but are never the log itself.
SIDE_FILES = frozenset({"provenance.json", "hparams.yaml", "args.yaml", "config.yaml", "readme.md"})
_MAX_LISTED = 8


def _candidates(path: Path) -> list[Path]:
    files = [p for p in sorted(path.iterdir()) if p.is_file() and p.name.lower() not in SIDE_FILES]
    return [p for p in files if not p.name.startswith(".")]


def _first_match(path: Path, loaders: Mapping[str, LoaderSpec]) -> LoaderSpec | None:
    for spec in loaders.values():
        if spec.sniff(path):
            return spec
    return None


def detect_format(path: Path, loaders: Mapping[str, LoaderSpec]) -> tuple[LoaderSpec, Path]:
    """Find the loader for ``path`` and the path it should read.

    A file is offered to each loader's ``sniff`` in registry order. A folder is offered as
    a whole first (Lightning, TensorBoard, MLflow, W&B and HF folders are read as folders);
    failing that, its files are tried one by one and the first recognised file is used.

    Parameters
    ----------
    path : pathlib.Path
        An existing file or folder.
    loaders : mapping of str to LoaderSpec
        The registry, in detection order.

    Returns
    -------
    (LoaderSpec, pathlib.Path)
        The loader and the path to pass to it.

    Raises
    ------
    LoadError
        If no loader recognises the path; the message lists the files seen and the formats.
    """
    spec = _first_match(path, loaders)
    if spec is not None:
        return spec, path
    if path.is_dir():
        for candidate in _candidates(path):
            spec = _first_match(candidate, loaders)
            if spec is not None:
                return spec, candidate
    raise LoadError(_unrecognised_message(path, loaders))


def _unrecognised_message(path: Path, loaders: Mapping[str, LoaderSpec]) -> str:
    if path.is_dir():
        names = [p.name for p in sorted(path.iterdir())][:_MAX_LISTED]
        seen = f" (files: {', '.join(names) or 'none'})"
    else:
        seen = ""
    formats = ", ".join(loaders)
    return (
        f"cannot tell the log format of '{path}'{seen}. Pass format=... (CLI: --format) "
        f"with one of: {formats}."
    )
