"""What Lightning's CSV and TensorBoard loggers share: version folders, hparams.yaml, names.

Both loggers write into ``<save_dir>/<name>/version_N/`` with an ``hparams.yaml`` beside the
log, and Lightning's callbacks give fixed names to some metrics (``lr-Adam``,
``grad_2.0_norm_total``). The Lightning CSV and TensorBoard loaders use these helpers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from dynamics_stats.core.report import ValidationIssue
from dynamics_stats.core.types import HParamValue, Role

__all__ = [
    "HPARAMS_FILE",
    "find_version_folder",
    "flatten_hparams",
    "lightning_role_hints",
    "read_hparams_yaml",
]

HPARAMS_FILE = "hparams.yaml"
_VERSION = re.compile(r"^version_(\d+)$")

# LearningRateMonitor: "lr-Adam", "lr-SGD/pg1", "lr-AdamW-1"; utilities.grad_norm:
# "grad_2.0_norm_total" (all parameters) and "grad_2.0_norm/<param>" (one tensor).
_ROLE_PATTERNS: tuple[tuple[re.Pattern[str], Role], ...] = (
    (re.compile(r"^lr-[^/]+(/pg\d+)?$"), "learning_rate"),
    (re.compile(r"^momentum-[^/]+(/pg\d+)?$"), "other"),
    (re.compile(r"^grad_([0-9.]+|inf)_norm_total$"), "grad_norm"),
    (re.compile(r"^grad_([0-9.]+|inf)_norm/.+$"), "layer_grad_norm"),
    (re.compile(r"^hp_metric$"), "other"),
)


def lightning_role_hints(names: Iterable[str]) -> dict[str, Role]:
    """Return the roles Lightning's own callbacks give to some metric names.

    Parameters
    ----------
    names : iterable of str
        Metric names as logged.

    Returns
    -------
    dict of str to Role
        ``lr-<Optimizer>[/pg<N>]`` (``LearningRateMonitor``) is the learning rate,
        ``grad_<p>_norm_total`` (``lightning.pytorch.utilities.grad_norm``) the total
        gradient norm, ``grad_<p>_norm/<param>`` a per-tensor norm; ``momentum-*`` and
        Lightning's placeholder ``hp_metric`` are ``"other"``.

    Examples
    --------
    >>> lightning_role_hints(["lr-Adam", "train_loss", "grad_2.0_norm_total"])
    {'lr-Adam': 'learning_rate', 'grad_2.0_norm_total': 'grad_norm'}
    """
    hints: dict[str, Role] = {}
    for name in names:
        for pattern, role in _ROLE_PATTERNS:
            if pattern.match(name):
                hints[name] = role
                break
    return hints


def flatten_hparams(data: Mapping[str, object], *, prefix: str = "") -> dict[str, HParamValue]:
    """Flatten nested hyper-parameters into dotted keys with scalar values.

    Parameters
    ----------
    data : mapping
        Hyper-parameters as read (nested mappings allowed).
    prefix : str, default=""
        Prepended to every key (used by the recursion).

    Returns
    -------
    dict of str to scalar
        Scalars are kept; lists and other non-scalar leaves become JSON strings.

    Examples
    --------
    >>> flatten_hparams({"optim": {"lr": 0.1, "betas": [0.9, 0.99]}, "seed": 3})
    {'optim.lr': 0.1, 'optim.betas': '[0.9, 0.99]', 'seed': 3}
    """
    flat: dict[str, HParamValue] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            flat.update(flatten_hparams(value, prefix=f"{name}."))
        elif value is None or isinstance(value, (bool, int, float, str)):
            flat[name] = value
        else:
            flat[name] = json.dumps(value, default=str)
    return flat


def read_hparams_yaml(path: Path) -> tuple[dict[str, HParamValue], tuple[ValidationIssue, ...]]:
    """Read a Lightning ``hparams.yaml`` with ``yaml.safe_load``.

    Parameters
    ----------
    path : pathlib.Path
        The YAML file.

    Returns
    -------
    (dict, tuple of ValidationIssue)
        The flattened hyper-parameters, and a warning note when the file was skipped (for
        instance python-object tags, which ``yaml.safe_load`` refuses to build).
    """
    import yaml  # only runs with an hparams.yaml need it; keeps it out of the start-up

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, OSError, UnicodeDecodeError) as err:
        lines = str(err).strip().splitlines()
        reason = lines[0] if lines else type(err).__name__
        note = ValidationIssue(
            code="hparams_unreadable",
            level="warning",
            message=f"skipped the hyper-parameters in '{path}': they cannot be read safely "
            f"({reason}).",
            hint="Objects saved into hparams.yaml (python/object tags) are never loaded; "
            "save plain values, e.g. self.save_hyperparameters(ignore=['loss']).",
        )
        return {}, (note,)
    if data is None:
        return {}, ()
    if not isinstance(data, Mapping):
        note = ValidationIssue(
            code="hparams_unreadable",
            level="warning",
            message=f"skipped the hyper-parameters in '{path}': expected a mapping, "
            f"got a {type(data).__name__}.",
        )
        return {}, (note,)
    return flatten_hparams(data), ()


def find_version_folder(
    folder: Path, *, marker: str
) -> tuple[Path, tuple[ValidationIssue, ...]] | None:
    """Pick the highest ``version_N`` sub-folder of ``folder`` that holds ``marker``.

    Parameters
    ----------
    folder : pathlib.Path
        A folder such as ``lightning_logs/``.
    marker : str
        A glob the version folder must hold: ``"metrics.csv"``, ``"**/*tfevents*"``.

    Returns
    -------
    (pathlib.Path, tuple of ValidationIssue) or None
        The chosen version folder and an info note naming it and the versions left out,
        or None when ``folder`` holds no such version folder.
    """
    versions: list[tuple[int, Path]] = []
    for child in folder.iterdir():
        match = _VERSION.match(child.name)
        if match and child.is_dir() and next(child.glob(marker), None) is not None:
            versions.append((int(match.group(1)), child))
    if not versions:
        return None
    versions.sort()
    chosen = versions[-1][1]
    others = [p.name for _, p in versions[:-1]]
    also = f"; other versions not read: {', '.join(others)}" if others else ""
    note = ValidationIssue(
        code="version_picked",
        level="info",
        message=f"read the latest version '{chosen.name}' in '{folder}'{also}.",
        hint="Pass a version folder to read another version." if others else "",
    )
    return chosen, (note,)
