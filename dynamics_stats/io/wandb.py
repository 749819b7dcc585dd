"""Read Weights & Biases runs: offline run folders (``.wandb`` logs) and history exports.

A run written by ``wandb`` (offline, or not yet synced) keeps everything it logged in
``wandb/[offline-]run-<date>_<time>-<id>/run-<id>.wandb``: a LevelDB-style log of protobuf
``Record`` messages, read by `dynamics_stats.io._wandb_log`. History records hold one item
per logged key (``_step``, ``_runtime`` and ``_timestamp`` included); run and config
records hold the config, read as ``hparams``. History exports (`EXPORT_SPEC`) are read by
`dynamics_stats.io._wandb_export`.
"""

from __future__ import annotations

import re
from pathlib import Path

from dynamics_stats.core.errors import LoadError
from dynamics_stats.core.report import ValidationIssue
from dynamics_stats.core.run_log import RunLog
from dynamics_stats.io._base import LoaderSpec, LoadOptions
from dynamics_stats.io._wandb_export import load_export, sniff_export
from dynamics_stats.io._wandb_history import listed, long_records, note
from dynamics_stats.io._wandb_log import IDENT, read_log

__all__ = ["EXPORT_SPEC", "SPEC"]

_RUN_DIR = re.compile(r"(?:offline-)?run-(\d{8}_\d{6})-(.+)")


def _run_dirs(folder: Path) -> list[Path]:
    runs = [d for d in folder.iterdir() if d.is_dir() and _RUN_DIR.fullmatch(d.name)]
    runs = [d for d in runs if any(d.glob("run-*.wandb"))]
    return sorted(runs, key=lambda d: (_RUN_DIR.fullmatch(d.name).group(1), d.name))  # type: ignore[union-attr]


def _find_log(path: Path) -> tuple[Path, tuple[ValidationIssue, ...]]:
    """Find the ``.wandb`` file of a run folder, or of the latest run of a ``wandb/`` folder."""
    if path.is_file():
        return path, ()
    logs = sorted(path.glob("run-*.wandb"))
    if len(logs) > 1:
        raise LoadError(
            f"'{path}' holds {len(logs)} W&B run logs ({listed(p.name for p in logs)}); "
            "pass one of them."
        )
    if logs:
        return logs[0], ()
    runs = _run_dirs(path)
    if not runs:
        raise LoadError(f"'{path}' holds no W&B run (no run-*.wandb file); pass a run folder.")
    log = sorted(runs[-1].glob("run-*.wandb"))[0]
    if len(runs) == 1:
        return log, ()
    others = listed(d.name for d in reversed(runs[:-1]))
    message = (
        f"'{path}' holds {len(runs)} W&B runs; read the latest, {runs[-1].name} (others: {others})."
    )
    hint = "Pass a run folder to read another run."
    return log, (note("wandb_latest_run", "info", message, hint=hint),)


def _sniff(path: Path) -> bool:
    try:
        if path.is_file():
            if path.suffix != ".wandb":
                return False
            with path.open("rb") as handle:
                return handle.read(4) == IDENT
        if path.is_dir():
            return any(path.glob("run-*.wandb")) or bool(_run_dirs(path))
    except OSError:
        return False
    return False


def _load(path: Path, options: LoadOptions) -> RunLog:
    log, notes = _find_log(path)
    if log.stat().st_size == 0:
        raise LoadError(f"'{log}' is empty: the W&B run logged nothing yet.")
    (keys, values, numbers), config, about, read_notes = read_log(log)
    if not keys:
        raise LoadError(f"'{log}' holds no logged values (no wandb.log call was recorded).")
    records, table_notes = long_records(keys, values, numbers, options.step_column)
    if about:
        run_id, name, project = about
        message = f"read W&B run '{run_id}' ({name or 'unnamed'}, project {project or '?'})."
        notes += (note("wandb_run", "info", message),)
    return RunLog(
        source=str(path),
        format="wandb",
        records=records,
        step_unit="step",
        hparams=config,
        notes=notes + read_notes + table_notes,
        files=(str(log),),
    )


SPEC = LoaderSpec(
    format="wandb",
    description="Weights & Biases run folder (offline or unsynced run-<id>.wandb)",
    sniff=_sniff,
    load=_load,
    extra="wandb",
)


EXPORT_SPEC = LoaderSpec(
    format="wandb_export",
    description="W&B history export: run.history() CSV/JSON or a chart's CSV from the web UI",
    sniff=sniff_export,
    load=load_export,
)
