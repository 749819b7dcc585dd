"""Parameter kinds and their numeric encodings (ranks, groups, forest design columns)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from dynamics_stats.core.errors import ConfigError
from dynamics_stats.core.types import FloatArray, IntArray
from dynamics_stats.sweeps.effects import ParameterKind

__all__ = ["EncodedParameter", "encode_parameters"]

#: A positive parameter is log-scaled when its largest value is at least this many times its
#: smallest and its logs are less skewed than its values.
LOG_SPREAD = 100.0
#: Most grid points used for partial dependence along one numeric parameter.
MAX_GRID = 8
MISSING_LEVEL = "(missing)"
_BOOL_WORDS = {"true": 1.0, "false": 0.0}


@dataclass(frozen=True)
class EncodedParameter:
    """One hyper-parameter, encoded for the statistics and the forest.

    ``values`` are floats (log10 for log-numeric, 0/1 for boolean, NaN when missing) for
    numeric and boolean kinds, None for categoricals; ``codes`` index ``levels`` (-1 missing).
    ``design`` holds the forest columns; ``grid_design``/``grid_weights`` the points and
    empirical weights along which partial dependence is evaluated.
    """

    name: str
    kind: ParameterKind
    values: FloatArray | None
    codes: IntArray
    levels: tuple[str, ...]
    n_missing: int
    design: FloatArray
    grid_design: FloatArray
    grid_weights: FloatArray


def encode_parameters(
    params: pd.DataFrame, *, log_scale: Mapping[str, bool] | None = None
) -> tuple[tuple[EncodedParameter, ...], tuple[str, ...]]:
    """Encode every usable parameter column; return the encodings and the limitation lines.

    Constant columns and categoricals with fewer than two runs per level are left out, each
    with a limitation line. ``log_scale`` overrides the spread rule per parameter name.
    """
    overrides = dict(log_scale or {})
    unknown = sorted(set(overrides) - {str(c) for c in params.columns})
    if unknown:
        raise ConfigError(
            f"log_scale names parameters not in the sweep: {unknown}. "
            f"Parameters: {', '.join(map(str, params.columns))}."
        )
    encoded: list[EncodedParameter] = []
    limitations: list[str] = []
    for column in params.columns:
        name = str(column)
        item, note = _encode_column(name, params[column], overrides.get(name))
        if item is not None:
            encoded.append(item)
        if note:
            limitations.append(note)
    return tuple(encoded), tuple(limitations)


def _encode_column(
    name: str, series: pd.Series, log_override: bool | None
) -> tuple[EncodedParameter | None, str]:
    present = series.notna().to_numpy()
    n_missing = int((~present).sum())
    if not present.any():
        return None, f"parameter {name!r} is missing in every run; not analysed."
    note = ""
    if n_missing:
        note = (
            f"parameter {name!r} is missing in {n_missing} of {len(series)} runs: those runs are "
            "left out of its correlations; the importance model imputes it (median or a "
            "'(missing)' level) with a missing indicator."
        )
    numeric = _as_numeric(series)
    if numeric is not None and np.unique(numeric[np.isfinite(numeric)]).size <= 1:
        return None, f"parameter {name!r} takes a single value in this sweep; not analysed."
    if numeric is not None and _is_boolean(series, numeric):
        return _encode_numeric(name, numeric, kind="boolean"), note
    if numeric is not None:
        kind = _numeric_kind(name, numeric, log_override)
        values = np.log10(numeric) if kind == "log-numeric" else numeric
        return _encode_numeric(name, values, kind=kind), note
    if log_override:
        raise ConfigError(f"log_scale[{name!r}] is True but {name!r} is not numeric.")
    return _encode_categorical(name, series, n_missing, note)


def _as_numeric(series: pd.Series) -> FloatArray | None:
    if pd.api.types.is_bool_dtype(series):
        return np.asarray(series.astype(float).to_numpy(), dtype=np.float64)
    present = series.dropna()
    if present.map(lambda v: isinstance(v, (bool, np.bool_))).all() and len(present):
        return series.map(lambda v: float(v) if pd.notna(v) else np.nan).to_numpy(dtype=float)
    words = present.astype(str).str.strip().str.lower()
    if (
        len(present)
        and words.isin(list(_BOOL_WORDS)).all()
        and not pd.api.types.is_numeric_dtype(series)
    ):
        mapped = series.astype(str).str.strip().str.lower().map(_BOOL_WORDS)
        return np.asarray(mapped.to_numpy(), dtype=np.float64)
    converted = pd.to_numeric(series, errors="coerce")
    if int(converted.notna().sum()) != len(present):
        return None
    values = converted.to_numpy(dtype=float)
    return np.where(np.isfinite(values), values, np.nan)


def _is_boolean(series: pd.Series, numeric: FloatArray) -> bool:
    if pd.api.types.is_bool_dtype(series):
        return True
    finite = numeric[np.isfinite(numeric)]
    non_numeric_dtype = not pd.api.types.is_numeric_dtype(series)
    return non_numeric_dtype and bool(np.isin(finite, (0.0, 1.0)).all())


def _numeric_kind(name: str, values: FloatArray, log_override: bool | None) -> ParameterKind:
    finite = values[np.isfinite(values)]
    positive = bool(finite.min() > 0)
    if log_override is True and not positive:
        raise ConfigError(
            f"log_scale[{name!r}] is True but {name!r} has values <= 0 "
            f"(min {finite.min():g}); a log scale needs positive values."
        )
    if log_override is not None:
        return "log-numeric" if log_override else "numeric"
    if not positive or finite.max() / finite.min() < LOG_SPREAD:
        return "numeric"
    # Wide and positive: log-scale when the logs are more evenly spread (less skewed) than
    # the raw values, as for log-uniform or powers-of-ten grids; not for uniform(0, 1).
    skew_raw = abs(float(stats.skew(finite)))
    skew_log = abs(float(stats.skew(np.log10(finite))))
    return "log-numeric" if skew_log < skew_raw else "numeric"


def _encode_numeric(name: str, values: FloatArray, *, kind: ParameterKind) -> EncodedParameter:
    present = np.isfinite(values)
    filled = np.where(present, values, np.median(values[present]))
    columns = [filled] if present.all() else [filled, (~present).astype(float)]
    unique, counts = np.unique(values[present], return_counts=True)
    if unique.size <= MAX_GRID:
        grid, weights = unique, counts / counts.sum()
    else:
        grid = np.quantile(values[present], (np.arange(MAX_GRID) + 0.5) / MAX_GRID)
        weights = np.full(MAX_GRID, 1.0 / MAX_GRID)
    grid_design = np.zeros((grid.size, len(columns)))
    grid_design[:, 0] = grid
    return EncodedParameter(
        name=name,
        kind=kind,
        values=values,
        codes=np.full(values.size, -1, dtype=np.int64),
        levels=(),
        n_missing=int((~present).sum()),
        design=np.column_stack(columns),
        grid_design=grid_design,
        grid_weights=weights.astype(float),
    )


def _encode_categorical(
    name: str, series: pd.Series, n_missing: int, note: str
) -> tuple[EncodedParameter | None, str]:
    labels = series.map(lambda v: MISSING_LEVEL if pd.isna(v) else str(v))
    levels = tuple(sorted(labels.unique()))
    present_levels = [lv for lv in levels if lv != MISSING_LEVEL]
    if len(present_levels) <= 1:
        return None, f"parameter {name!r} takes a single value in this sweep; not analysed."
    if len(levels) > len(series) / 2:
        return None, (
            f"parameter {name!r} has {len(levels)} distinct values in {len(series)} runs "
            "(fewer than 2 runs per value); not analysed. Group its values to compare them."
        )
    index = {lv: i for i, lv in enumerate(levels)}
    all_codes = labels.map(index).to_numpy(dtype=np.int64)
    design = np.eye(len(levels))[all_codes]
    counts = np.bincount(all_codes, minlength=len(levels)).astype(float)
    codes = np.where(labels.to_numpy() == MISSING_LEVEL, -1, all_codes)
    item = EncodedParameter(
        name=name,
        kind="categorical",
        values=None,
        codes=codes.astype(np.int64),
        levels=levels,
        n_missing=n_missing,
        design=design,
        grid_design=np.eye(len(levels)),
        grid_weights=counts / counts.sum(),
    )
    return item, note
