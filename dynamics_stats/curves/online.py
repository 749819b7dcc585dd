"""Streaming statistics for monitoring a run while it trains, at bounded cost per step.

`RobustWindow` keeps running robust statistics (median and MAD of a fixed-size ring buffer,
recomputed every few updates); `SpikeTest` flags points far above them; `OnlineChangepoints`
is Bayesian online changepoint detection (Adams & MacKay, 2007) with a truncated run-length
posterior. Every object holds a fixed amount of memory whatever the number of updates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.special import gammaln

from dynamics_stats.core._checks import check_float, check_int
from dynamics_stats.core.types import FloatArray

__all__ = ["OnlineChangepoints", "RobustWindow", "SpikeTest", "SpikeUpdate", "to_log_scale"]

_MAD_TO_SIGMA = 1.4826


def to_log_scale(value: float) -> float:
    """Return ``log(value)`` for a positive value, the value itself otherwise.

    Losses and gradient norms are positive and vary over orders of magnitude, so spikes and
    level shifts are measured on the log scale (a factor, not a difference).

    Examples
    --------
    >>> round(to_log_scale(math.e), 6), to_log_scale(-1.0)
    (1.0, -1.0)
    """
    return math.log(value) if value > 0 else value


@dataclass(slots=True)
class RobustWindow:
    """Median and MAD of the last ``size`` values, recomputed every ``every`` updates.

    Parameters
    ----------
    size : int, default=64
        Length of the ring buffer.
    every : int, default=16
        Updates between recomputations of the median and MAD (and at every update until
        the buffer is full).

    Notes
    -----
    Memory is ``size`` floats. A recomputation costs O(size) and happens every ``every``
    updates, so the amortized cost per update is O(size / every), a constant.

    Examples
    --------
    >>> window = RobustWindow(size=5, every=1)
    >>> for x in [1.0, 2.0, 3.0, 100.0, 2.0]:
    ...     window.update(x)
    >>> window.median, window.mad
    (2.0, 1.0)
    """

    size: int = 64
    every: int = 16
    median: float = field(default=math.nan, init=False)
    mad: float = field(default=math.nan, init=False)
    n_seen: int = field(default=0, init=False)
    _buffer: FloatArray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        check_int(self, "size", low=3)
        check_int(self, "every", low=1)
        self._buffer = np.full(self.size, np.nan)

    def update(self, value: float) -> None:
        """Add one finite value (non-finite values are ignored)."""
        if not math.isfinite(value):
            return
        self._buffer[self.n_seen % self.size] = value
        self.n_seen += 1
        if self.n_seen % self.every == 0 or self.n_seen <= self.size:
            filled = self._buffer[: min(self.n_seen, self.size)]
            self.median = _median(filled)
            self.mad = _median(np.abs(filled - self.median))


def _median(values: FloatArray) -> float:
    """Median of finite values; ``np.partition`` directly (np.median's overhead is larger)."""
    n = values.size
    middle = n // 2
    if n % 2:
        return float(np.partition(values, middle)[middle])
    part = np.partition(values, (middle - 1, middle))
    return 0.5 * float(part[middle - 1] + part[middle])


@dataclass(frozen=True, slots=True)
class SpikeUpdate:
    """What one `SpikeTest.update` found.

    Parameters
    ----------
    z_score : float
        Robust z-score of the value against the recent window (NaN while warming up).
    is_spike : bool
        Whether the value is above the threshold.
    starts_region : bool
        Whether it is the first spike after at least ``cooldown`` calm updates.
    """

    z_score: float
    is_spike: bool
    starts_region: bool


@dataclass(slots=True)
class SpikeTest:
    """Flag values far above the recent robust level (upward spikes only).

    Parameters
    ----------
    z_threshold : float, default=6.0
        Robust z-score, ``(x - median) / (1.4826 * MAD)``, above which a value is a spike.
    window : int, default=64
        Length of the robust window.
    min_points : int, default=20
        Updates before any spike can be flagged.
    cooldown : int, default=10
        Calm updates needed before a new spike starts a new region.
    min_scale : float, default=1e-3
        Floor on the noise scale, so a perfectly flat curve does not make every wiggle a
        spike.
    min_jump : float, default=0.0
        Smallest excess over the median that can be a spike, in the units of the values
        (on the log scale, ``log(2)`` means "at least doubled").

    Notes
    -----
    The value is compared with the statistics *before* it is added to the window; it is
    added afterwards, so a lasting level shift stops being a spike after about
    ``window / 2`` updates (the median is robust to a minority of outliers).

    Examples
    --------
    >>> test = SpikeTest(min_points=5)
    >>> for x in [1.0, 1.1, 0.9, 1.0, 1.05, 0.95]:
    ...     _ = test.update(x)
    >>> test.update(5.0).starts_region
    True
    """

    z_threshold: float = 6.0
    window: int = 64
    min_points: int = 20
    cooldown: int = 10
    min_scale: float = 1e-3
    min_jump: float = 0.0
    _stats: RobustWindow = field(init=False, repr=False)
    _calm: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        check_float(self, "z_threshold", low=0.0, low_open=True)
        check_int(self, "min_points", low=3)
        check_int(self, "cooldown", low=0)
        check_float(self, "min_scale", low=0.0, low_open=True)
        check_float(self, "min_jump", low=0.0)
        self._stats = RobustWindow(size=self.window)
        self._calm = self.cooldown

    def update(self, value: float) -> SpikeUpdate:
        """Test one value, then add it to the window (non-finite values are not spikes)."""
        stats = self._stats
        z_score = math.nan
        if math.isfinite(value) and stats.n_seen >= self.min_points:
            scale = max(_MAD_TO_SIGMA * stats.mad, self.min_scale)
            z_score = (value - stats.median) / scale
        is_spike = z_score > self.z_threshold and value - stats.median >= self.min_jump
        starts = is_spike and self._calm >= self.cooldown
        self._calm = 0 if is_spike else self._calm + 1
        stats.update(value)
        return SpikeUpdate(z_score=z_score, is_spike=is_spike, starts_region=starts)


@dataclass(slots=True)
class OnlineChangepoints:
    r"""Bayesian online changepoint detection with a truncated run-length posterior.

    Each segment is Gaussian with unknown mean and variance (Normal-Gamma prior, Student-t
    predictive); changepoints arrive at a constant hazard rate. A change is reported when
    the posterior mass of run lengths below ``max_lag`` exceeds ``threshold``.

    Parameters
    ----------
    hazard : float, default=1/250
        Prior probability of a changepoint at each update.
    max_run_length : int, default=256
        Run lengths kept; longer runs are merged into the last one.
    threshold : float, default=0.9
        Posterior mass of short run lengths needed to report a change.
    max_lag : int, default=15
        Run lengths counted as "a recent change".
    n_warmup : int, default=20
        Values used to set the prior (median and MAD of the first values).

    Notes
    -----
    Adams & MacKay (2007), "Bayesian online changepoint detection", arXiv:0710.3742. With
    run-length posterior :math:`P(r_t)`, predictive :math:`\pi_r = p(x_t | r)` and hazard
    :math:`H`: growth :math:`P(r_t = r + 1) \propto P(r_{t-1} = r) \pi_r (1 - H)` and
    change :math:`P(r_t = 0) \propto H \sum_r P(r_{t-1} = r) \pi_r`. Truncating at
    ``max_run_length`` = L makes each update O(L) time and memory, a constant. Computed
    in log space.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> detector = OnlineChangepoints()
    >>> values = np.r_[rng.normal(0, 1, 200), rng.normal(5, 1, 50)]
    >>> found = [(i, detector.update(x)) for i, x in enumerate(values)]
    >>> [(i, start) for i, start in found if start is not None]
    [(201, 200)]
    """

    hazard: float = 1 / 250
    max_run_length: int = 256
    threshold: float = 0.9
    max_lag: int = 15
    n_warmup: int = 20
    n_seen: int = field(default=0, init=False)
    last_change: int = field(default=-1, init=False)
    _log_r: FloatArray = field(init=False, repr=False)
    _params: FloatArray = field(init=False, repr=False)
    _prior: FloatArray = field(init=False, repr=False)
    _log_norm: FloatArray = field(init=False, repr=False)
    _n_runs: int = field(default=0, init=False)
    _origin: int = field(default=0, init=False)
    _warmup: list[float] = field(default_factory=list, init=False, repr=False)

    def __post_init__(self) -> None:
        check_float(self, "hazard", low=0.0, high=1.0, low_open=True)
        check_int(self, "max_run_length", low=self.max_lag + 2)
        check_float(self, "threshold", low=0.0, high=1.0, low_open=True)
        check_int(self, "max_lag", low=1)
        check_int(self, "n_warmup", low=3)
        self._log_r = np.full(self.max_run_length, -np.inf)
        self._params = np.zeros((4, self.max_run_length))  # mu, kappa, alpha, beta

    def update(self, value: float) -> int | None:
        """Add one value; return the update index where a new change began, or None.

        Non-finite values are skipped (they are the NaN/Inf check's business).
        """
        if not math.isfinite(value):
            return None
        self.n_seen += 1
        if self.n_seen <= self.n_warmup:
            self._warmup.append(value)
            if self.n_seen == self.n_warmup:
                self._start()
            return None
        self._step(value)
        return self._report()

    @property
    def run_length_probabilities(self) -> FloatArray:
        """Posterior probability of each run length 0, 1, ... (a copy)."""
        return np.exp(self._log_r[: self._n_runs])

    def _start(self) -> None:
        values = np.asarray(self._warmup)
        scale = max(_MAD_TO_SIGMA * float(np.median(np.abs(values - np.median(values)))), 1e-6)
        # weak prior on the mean (kappa), prior mean of the variance equal to scale**2
        self._prior = np.array([float(np.median(values)), 0.1, 2.0, scale**2])
        mu0, kappa0, alpha0, beta0 = self._prior
        n, mean = values.size, float(values.mean())
        # the first run starts with the posterior given the warm-up values
        self._params[:, 0] = (
            (kappa0 * mu0 + n * mean) / (kappa0 + n),
            kappa0 + n,
            alpha0 + n / 2,
            beta0
            + 0.5 * float(((values - mean) ** 2).sum())
            + kappa0 * n * (mean - mu0) ** 2 / (2 * (kappa0 + n)),
        )
        df = np.arange(2 * int(alpha0) + n + self.max_run_length + 4, dtype=float)
        df[0] = 1.0  # unused (alpha >= 2); avoids log(0)
        self._log_norm = gammaln((df + 1) / 2) - gammaln(df / 2) - 0.5 * np.log(np.pi * df)
        self._log_r[0] = 0.0
        self._n_runs = 1
        self._origin = 0
        self._warmup = []

    def _step(self, value: float) -> None:
        n = self._n_runs
        mu, kappa, alpha, beta = self._params[:, :n]
        scale2 = beta * (kappa + 1) / (alpha * kappa)
        dev2 = (value - mu) ** 2
        # Student-t log density with 2 * alpha (a whole number) degrees of freedom
        log_pred = (
            self._log_norm[(2 * alpha).astype(np.intp)]
            - 0.5 * np.log(scale2)
            - (alpha + 0.5) * np.log1p(dev2 / (2 * alpha * scale2))
        )
        joint = self._log_r[:n] + log_pred
        top = float(joint.max())
        log_evidence = top + math.log(float(np.exp(joint - top).sum()))
        updated = np.empty((4, n))
        updated[0] = (kappa * mu + value) / (kappa + 1)
        updated[1] = kappa + 1
        updated[2] = alpha + 0.5
        updated[3] = beta + kappa * dev2 / (2 * (kappa + 1))
        growth = joint + (math.log1p(-self.hazard) - log_evidence)
        if n == self.max_run_length:  # merge the longest run into the one before it
            growth[-2] = np.logaddexp(growth[-2], growth[-1])
            growth, updated = growth[:-1], updated[:, :-1]
        m = growth.size + 1
        self._log_r[1:m] = growth
        self._log_r[0] = math.log(self.hazard)  # P(r = 0) is the hazard (evidence cancels)
        self._params[:, 1:m] = updated
        self._params[:, 0] = self._prior
        self._n_runs = m
        self._origin = min(self._origin + 1, m - 1)

    def _report(self) -> int | None:
        index = self.n_seen - 1
        # run lengths shorter than the run that began at the end of the warm-up
        recent = self._log_r[: min(self.max_lag, self._origin)]
        if recent.size == 0 or math.exp(np.logaddexp.reduce(recent)) < self.threshold:
            return None
        start = index - int(np.argmax(recent)) + 1  # run r holds the last r values
        if self.last_change >= 0 and start <= self.last_change + self.max_lag:
            return None
        self.last_change = start
        return start
