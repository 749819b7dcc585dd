"""A sweep stored as a folder of runs: one sub-folder (or, failing that, one file) per run.

Only the run list and the hyper-parameters written beside the logs (Lightning's
``hparams.yaml``, read with ``yaml.safe_load``) are read here; the logs themselves are read
by `dynamics_stats.io.load_run` when each run is analysed, which also adds the
hyper-parameters its loader finds (HF trainer arguments, MLflow params).
"""

from __future__ import annotations

from pathlib import Path

from dynamics_stats.core.errors import LoadError
from dynamics_stats.core.types import HParamValue
from dynamics_stats.io._detect import SIDE_FILES
from dynamics_stats.io._lightning import HPARAMS_FILE, read_hparams_yaml
from dynamics_stats.io._sweep_types import SweepRun

__all__ = ["list_folder_runs"]

_MAX_HPARAMS_DEPTH = 3


def _find_hparams(folder: Path) -> Path | None:
    """Return the shallowest ``hparams.yaml`` under ``folder`` (at most three levels down)."""
    level = [folder]
    for _ in range(_MAX_HPARAMS_DEPTH + 1):
        for candidate in level:
            if (candidate / HPARAMS_FILE).is_file():
                return candidate / HPARAMS_FILE
        level = sorted(p for d in level for p in d.iterdir() if p.is_dir())
        if not level:
            return None
    return None


def _run_entries(root: Path) -> list[Path]:
    visible = sorted(p for p in root.iterdir() if not p.name.startswith((".", "_")))
    folders = [p for p in visible if p.is_dir()]
    if folders:
        return folders
    return [p for p in visible if p.is_file() and p.name.lower() not in SIDE_FILES]


def list_folder_runs(root: Path) -> tuple[tuple[SweepRun, ...], tuple[str, ...]]:
    """List the runs of a sweep folder and the hyper-parameters saved beside each.

    Parameters
    ----------
    root : pathlib.Path
        A folder whose sub-folders are runs (any format `load_run` reads). When it has no
        sub-folder, each file in it is a run.

    Returns
    -------
    (tuple of SweepRun, tuple of str)
        The runs (id = folder or file name) and limitations (unreadable hyper-parameters).

    Raises
    ------
    LoadError
        If the folder holds no run.
    """
    entries = _run_entries(root)
    if not entries:
        raise LoadError(
            f"the sweep folder '{root}' holds no run: put each run's log in its own "
            "sub-folder (e.g. runs/lr_0.01/metrics.csv)."
        )
    runs, limitations = [], []
    for entry in entries:
        params: dict[str, HParamValue] = {}
        hparams_file = _find_hparams(entry) if entry.is_dir() else None
        if hparams_file is not None:
            params, notes = read_hparams_yaml(hparams_file)
            limitations += [f"run '{entry.name}': {note.message}" for note in notes]
        runs.append(SweepRun(run_id=entry.name, params=tuple(params.items()), log=str(entry)))
    return tuple(runs), tuple(limitations)
