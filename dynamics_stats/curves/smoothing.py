"""`smooth_curve`: state-space smoothing of one metric (statsmodels adapter)."""

from __future__ import annotations

import math
import warnings

import numpy as np

from dynamics_stats.core.artifacts import MetricSeries
from dynamics_stats.core.config import SmoothingConfig
from dynamics_stats.core.errors import ModelFitError
from dynamics_stats.core.types import FloatArray, IntArray
from dynamics_stats.curves._binning import bin_series
from dynamics_stats.curves._kalman import K_STATES, smooth_trend_model
from dynamics_stats.curves.types import SmoothedCurve

__all__ = ["slope_probability", "smooth_curve"]

_MIN_POINTS = 5
_EWMA_SPAN = 10


def _modelled_values(values: FloatArray) -> tuple[FloatArray, bool]:
    finite = values[np.isfinite(values)]
    if len(finite) and np.all(finite > 0):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(np.isfinite(values) & (values > 0), np.log10(values), np.nan), True
    return np.where(np.isfinite(values), values, np.nan), False


def _concentrated_loglike(y: FloatArray, ratio: float) -> tuple[float, float]:
    """Profile log-likelihood of a signal-to-noise ratio, with the noise variance estimated.

    With every variance proportional to ``sigma2``, the filter run at ``sigma2 = 1`` gives
    the standardised innovations, the MLE ``sigma2 = mean(v^2 / F)`` and the concentrated
    log-likelihood ``-0.5 * sum(log(sigma2 * F) + 1)``.
    """
    result = smooth_trend_model(y, noise_var=1.0, slope_var=ratio).filter()
    v = np.asarray(result.forecasts_error[0])
    f = np.asarray(result.forecasts_error_cov[0, 0])
    keep = np.isfinite(v) & np.isfinite(f) & (f > 0)
    keep[:K_STATES] = False  # diffuse start: no information about the scale
    if keep.sum() < 2:
        return -np.inf, 1.0
    sigma2 = float(np.mean(v[keep] ** 2 / f[keep]))
    sigma2 = max(sigma2, 1e-300)
    return float(-0.5 * np.sum(np.log(sigma2 * f[keep]) + 1.0)), sigma2


def _fit_grid(y: FloatArray, n_grid: int) -> tuple[FloatArray, bool]:
    ratios = np.logspace(-10, 2, n_grid)
    fits = [_concentrated_loglike(y, r) for r in ratios]
    best = int(np.argmax([ll for ll, _ in fits]))
    sigma2 = fits[best][1]
    return np.array([sigma2, sigma2 * ratios[best]]), 0 < best < n_grid - 1


def _fit_mle(y: FloatArray) -> tuple[FloatArray, bool]:
    from statsmodels.tsa.statespace.structural import UnobservedComponents

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = UnobservedComponents(y, level="smooth trend").fit(disp=False, maxiter=100)
    return np.asarray(fitted.params), bool(fitted.mle_retvals.get("converged", False))


def _state_space(y: FloatArray, config: SmoothingConfig) -> tuple[FloatArray, ...]:
    """Fit the smooth-trend model and return level, level SE, slope, slope SE, converged."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if config.method == "mle":
                params, converged = _fit_mle(y)
            else:
                params, converged = _fit_grid(y, config.n_grid)
            model = smooth_trend_model(y, noise_var=params[0], slope_var=params[1])
            result = model.smooth()
    except (np.linalg.LinAlgError, ValueError) as err:
        raise ModelFitError(f"state-space smoothing failed on {len(y)} points: {err}") from err
    state, cov = result.smoothed_state, result.smoothed_state_cov
    level_se = np.sqrt(np.maximum(cov[0, 0], 0.0))
    slope_se = np.sqrt(np.maximum(cov[1, 1], 0.0))
    # The first two points fall in the diffuse start, where the smoother's covariance is
    # not meaningful (exactly 0 or huge): use the first regular point's errors there.
    k = min(2, len(y) - 1)
    level_se[:k], slope_se[:k] = level_se[k], slope_se[k]
    if not (np.isfinite(state).all() and np.isfinite(level_se).all()):
        raise ModelFitError(f"state-space smoothing gave non-finite states on {len(y)} points")
    return state[0], level_se, state[1], slope_se, np.array(float(converged))


def _ewma(y: FloatArray) -> tuple[FloatArray, ...]:
    """Fallback: exponentially weighted mean with a delta-method standard error."""
    import pandas as pd

    series = pd.Series(y).interpolate(limit_direction="both")
    level = series.ewm(span=_EWMA_SPAN).mean().to_numpy(float)
    resid_sd = float(np.nanstd(y - level)) if np.isfinite(y).sum() > 1 else float("nan")
    level_se = np.full(len(y), resid_sd * math.sqrt(2.0 / (_EWMA_SPAN + 1)))
    slope = np.gradient(level) if len(level) > 1 else np.zeros(len(level))
    return level, level_se, slope, np.full(len(y), np.nan), np.array(0.0)


def smooth_curve(series: MetricSeries, *, config: SmoothingConfig) -> SmoothedCurve:
    """Smooth a metric with a local linear ("smooth") trend model.

    Parameters
    ----------
    series : MetricSeries
        The metric; inf values are dropped (they are evidence for detectors, not level),
        NaN values are treated as missing.
    config : SmoothingConfig
        Binning size and estimation method.

    Returns
    -------
    SmoothedCurve
        Level and slope (per step) with standard errors, on the log10 scale for positive
        metrics. ``method`` is ``"smooth_trend"``, ``"ewma_fallback"`` when statsmodels
        failed, or ``"too_short"`` for fewer than 5 finite points.

    Raises
    ------
    ModelFitError
        Never for valid input: a failed fit falls back to the EWMA smoother instead, and
        ``converged`` is False.

    Notes
    -----
    The model is ``y_t = mu_t + eps_t``, ``mu_{t+1} = mu_t + beta_t``,
    ``beta_{t+1} = beta_t + zeta_t`` (the "smooth trend" of ``UnobservedComponents``, run
    on statsmodels' Kalman filter and smoother), fitted to at most ``config.max_points``
    robustly binned points. With ``method="grid"`` the noise variance is concentrated out
    of the likelihood and the slope-to-noise variance ratio maximises the profile
    likelihood over a log grid; the fit counts as converged when the maximum is inside the
    grid. ``method="mle"`` fits both variances with ``UnobservedComponents.fit``. Cost: a
    few milliseconds per curve.

    Examples
    --------
    >>> import numpy as np
    >>> from dynamics_stats import MetricSeries
    >>> steps = np.arange(100)
    >>> s = MetricSeries("loss", "train_loss", "min", steps, 1.0 / (1 + steps),
    ...                  np.full(100, np.nan), np.full(100, np.nan))
    >>> curve = smooth_curve(s, config=SmoothingConfig())
    >>> bool(curve.slope[-1] < 0), curve.log_scale
    (True, True)
    """
    keep = ~np.isinf(series.values)
    steps, raw = series.steps[keep], series.values[keep]
    y_all, is_log = _modelled_values(raw)
    bin_steps, y, width = bin_series(steps, y_all, max_points=config.max_points)
    n_finite = int(np.isfinite(y_all).sum())
    if np.isfinite(y).sum() < _MIN_POINTS:
        nan = np.full(len(y), np.nan)
        return _curve(
            series, is_log, bin_steps, y, (y, nan, nan, nan), width, n_finite, "too_short", False
        )
    try:
        level, level_se, slope, slope_se, converged = _state_space(y, config)
        method = "smooth_trend" if config.method == "grid" else "smooth_trend_mle"
    except ModelFitError:
        level, level_se, slope, slope_se, converged = _ewma(y)
        method = "ewma_fallback"
    states = (level, level_se, slope / width, slope_se / width)
    return _curve(series, is_log, bin_steps, y, states, width, n_finite, method, bool(converged))


def _curve(  # noqa: PLR0913 - assembles the frozen result
    series: MetricSeries,
    is_log: bool,
    steps: IntArray,
    observed: FloatArray,
    states: tuple[FloatArray, ...],
    width: float,
    n_raw: int,
    method: str,
    converged: bool,
) -> SmoothedCurve:
    level, level_se, slope, slope_se = states
    return SmoothedCurve(
        metric=series.name,
        role=series.role,
        log_scale=is_log,
        steps=steps,
        observed=observed,
        level=np.asarray(level, float),
        level_se=np.asarray(level_se, float),
        slope=np.asarray(slope, float),
        slope_se=np.asarray(slope_se, float),
        bin_width_steps=width,
        n_raw_points=n_raw,
        method=method,
        converged=converged,
    )


def slope_probability(
    curve: SmoothedCurve, *, start_step: int, end_step: int, positive: bool = True
) -> float:
    """Return P(mean slope over ``[start_step, end_step]`` > 0) (or < 0 if not ``positive``).

    Notes
    -----
    The mean of the smoothed slopes in the window is taken as Gaussian with standard error
    equal to the mean of their standard errors. Adjacent smoothed slopes are strongly
    correlated, so this is conservative compared with treating them as independent
    (which would shrink the error by the square root of the window's size). Returns 0.5
    when the window holds no point or the error is unknown.
    """
    from scipy.special import ndtr

    inside = (curve.steps >= start_step) & (curve.steps <= end_step)
    slopes, errors = curve.slope[inside], curve.slope_se[inside]
    if not inside.any() or not np.isfinite(errors).all():
        return 0.5
    mean, se = float(np.mean(slopes)), float(np.mean(errors))
    if se <= 0:
        return 0.5 if mean == 0 else float(mean > 0) if positive else float(mean < 0)
    z = mean / se if positive else -mean / se
    return float(ndtr(z))
