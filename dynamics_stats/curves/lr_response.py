"""How the training loss's local slope relates to the learning rate within one run."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from dynamics_stats.core.artifacts import MetricSeries, TrainingArtifacts
from dynamics_stats.core.errors import ConfigError
from dynamics_stats.core.types import FloatArray

__all__ = ["LRResponse", "relate_loss_slope_to_lr"]

_NAN = float("nan")
_MIN_WINDOWS = 5
_Z95 = 1.959963984540054


@dataclass(frozen=True, slots=True)
class LRResponse:
    """Rank correlation between the learning rate and the loss's progress over step windows.

    Parameters
    ----------
    available : bool
        Whether the statistic could be computed; when False, ``reason`` says why and the
        numbers are NaN.
    reason : str
        Why it is unavailable ("" when available).
    spearman : float
        Spearman correlation between the window's learning rate and its progress rate
        (minus the slope of log10 loss): positive means the loss fell faster when the
        learning rate was higher.
    ci_low, ci_high : float
        95% interval of ``spearman`` (Fisher z, Bonett-Wright standard error).
    p_value : float
        Two-sided p-value of ``spearman`` against zero.
    partial_spearman : float
        The same correlation with the window's position in the run partialled out; NaN
        when the learning rate follows time almost exactly (|rho(LR, time)| > 0.95).
    n_windows : int
        Windows that had enough points.
    fastest_lr_low, fastest_lr_high : float
        Learning-rate range of the windows in the top quarter of progress, counted from the
        learning-rate peak on (warm-up excluded).
    lr_min, lr_max : float
        Range of the learning rate over the windows.
    """

    available: bool
    reason: str = ""
    spearman: float = _NAN
    ci_low: float = _NAN
    ci_high: float = _NAN
    p_value: float = _NAN
    partial_spearman: float = _NAN
    n_windows: int = 0
    fastest_lr_low: float = _NAN
    fastest_lr_high: float = _NAN
    lr_min: float = _NAN
    lr_max: float = _NAN

    def to_pairs(self) -> tuple[tuple[str, float], ...]:
        """Return the numbers as (name, value) pairs (``n_windows`` as a float)."""
        names: tuple[str, ...] = ("spearman", "ci_low", "ci_high", "p_value", "partial_spearman")
        names += ("fastest_lr_low", "fastest_lr_high", "lr_min", "lr_max")
        return tuple((n, float(getattr(self, n))) for n in names) + (
            ("n_windows", float(self.n_windows)),
        )


def _window_rates(
    loss: MetricSeries, lr: MetricSeries, n_windows: int
) -> tuple[FloatArray, FloatArray]:
    """Progress rate (decades per 1,000 steps) and geometric-mean LR of each window."""
    ok = np.isfinite(loss.values) & (loss.values > 0)
    steps, log_loss = loss.steps[ok].astype(float), np.log10(loss.values[ok])
    lr_ok = np.isfinite(lr.values) & (lr.values > 0)
    lr_steps, log_lr = lr.steps[lr_ok].astype(float), np.log10(lr.values[lr_ok])
    edges = np.linspace(steps[0], steps[-1], n_windows + 1)
    rates, lrs = [], []
    for low, high in zip(edges[:-1], edges[1:], strict=True):
        inside = (steps >= low) & (steps <= high)
        if inside.sum() < 3 or np.ptp(steps[inside]) == 0:
            continue
        slope = np.polyfit(steps[inside], log_loss[inside], 1)[0]
        in_lr = (lr_steps >= low) & (lr_steps <= high)
        mid = 0.5 * (low + high)
        level = log_lr[in_lr].mean() if in_lr.any() else np.interp(mid, lr_steps, log_lr)
        rates.append(-1000.0 * slope)
        lrs.append(float(level))
    return np.asarray(rates), np.asarray(lrs)


def _spearman_with_interval(x: FloatArray, y: FloatArray) -> tuple[float, float, float, float]:
    from scipy.stats import spearmanr

    rho, p_value = spearmanr(x, y)
    rho = float(np.clip(rho, -0.9999, 0.9999))
    se = math.sqrt((1.0 + rho**2 / 2.0) / (len(x) - 3))
    z = math.atanh(rho)
    return rho, math.tanh(z - _Z95 * se), math.tanh(z + _Z95 * se), float(p_value)


def _partial_given_time(log_lr: FloatArray, rates: FloatArray, rho: float) -> float:
    from scipy.stats import spearmanr

    order = np.arange(len(rates), dtype=float)
    r_lt = float(spearmanr(log_lr, order)[0])
    r_rt = float(spearmanr(rates, order)[0])
    if not (math.isfinite(r_lt) and math.isfinite(r_rt)) or abs(r_lt) > 0.95:
        return _NAN
    if abs(r_rt) > 0.999:  # progress follows time exactly: nothing is left to relate
        return _NAN
    partial = (rho - r_lt * r_rt) / math.sqrt((1 - r_lt**2) * (1 - r_rt**2))
    return float(np.clip(partial, -1.0, 1.0))


def _fastest_range(log_lr: FloatArray, rates: FloatArray) -> tuple[float, float]:
    start = max(int(np.argmax(log_lr)), 1)
    lr_after, rate_after = log_lr[start:], rates[start:]
    if len(rate_after) < 2:
        return _NAN, _NAN
    top = rate_after >= np.quantile(rate_after, 0.75)
    return float(10.0 ** lr_after[top].min()), float(10.0 ** lr_after[top].max())


def relate_loss_slope_to_lr(artifacts: TrainingArtifacts, *, n_windows: int = 12) -> LRResponse:
    """Relate the training loss's local slope to the learning rate over step windows.

    Parameters
    ----------
    artifacts : TrainingArtifacts
        The validated run; needs a positive training loss and a logged learning rate.
    n_windows : int, default=12
        Number of equal step windows; each needs three loss points to count.

    Returns
    -------
    LRResponse
        With ``available=False`` and the reason when the run does not allow it.

    Raises
    ------
    ConfigError
        If ``n_windows`` is not an int in [5, 200].

    Notes
    -----
    In each window the slope of log10(loss) against the step is fitted by least squares;
    the progress rate is minus that slope per 1,000 steps and the window's LR the geometric
    mean of the LRs logged in it (interpolated when none is). Spearman's rho between the
    two gets a 95% interval from the Fisher transform with the Bonett-Wright standard
    error ``sqrt((1 + rho^2 / 2) / (n - 3))``. The correlation is descriptive: LR
    schedules follow time and progress slows with time, so a decaying LR alone yields a
    positive rho; ``partial_spearman`` removes the window's position when the two are not
    almost collinear.

    Examples
    --------
    >>> from dynamics_stats import validate_run
    >>> from dynamics_stats.io.synthetic import make_run
    >>> response = relate_loss_slope_to_lr(validate_run(make_run("stalled", seed=0)[0]))
    >>> response.available, -1.0 <= response.spearman <= 1.0
    (True, True)
    """
    ok = isinstance(n_windows, int) and not isinstance(n_windows, bool)
    if not ok or not _MIN_WINDOWS <= n_windows <= 200:
        raise ConfigError(
            f"relate_loss_slope_to_lr: n_windows must be an int in [{_MIN_WINDOWS}, 200]; "
            f"got {n_windows!r}. Spearman's interval needs at least {_MIN_WINDOWS} windows."
        )
    loss, lr = artifacts.get("train_loss"), artifacts.get("learning_rate")
    if loss is None or lr is None:
        missing = "training loss" if loss is None else "learning rate"
        return LRResponse(False, f"the run logs no {missing}")
    lr_ok = np.isfinite(lr.values) & (lr.values > 0)
    loss_ok = np.isfinite(loss.values) & (loss.values > 0)
    if lr_ok.sum() < 2 or loss_ok.sum() < 3 * _MIN_WINDOWS:
        return LRResponse(False, "too few positive loss or learning-rate values")
    rates, log_lr = _window_rates(loss, lr, n_windows)
    if len(rates) < _MIN_WINDOWS:
        return LRResponse(
            False, f"only {len(rates)} windows had 3 loss points ({_MIN_WINDOWS} needed)"
        )
    if len(np.unique(np.round(log_lr, 6))) < 3:
        return LRResponse(False, "the learning rate barely changes, so its effect cannot be seen")
    if len(np.unique(rates)) < 3:
        return LRResponse(False, "the loss's progress rate does not vary between windows")
    rho, low, high, p_value = _spearman_with_interval(log_lr, rates)
    fast_low, fast_high = _fastest_range(log_lr, rates)
    return LRResponse(
        available=True,
        spearman=rho,
        ci_low=low,
        ci_high=high,
        p_value=p_value,
        partial_spearman=_partial_given_time(log_lr, rates, rho),
        n_windows=len(rates),
        fastest_lr_low=fast_low,
        fastest_lr_high=fast_high,
        lr_min=float(10.0 ** log_lr.min()),
        lr_max=float(10.0 ** log_lr.max()),
    )
