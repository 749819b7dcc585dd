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
from dynamics_stats.core.types import FloatArray, IntArray

__all__ = [
    "OnlineChangepoints",
    "RobustWindow",
    "SpikeBlock",
    "SpikeTest",
    "SpikeUpdate",
    "to_log_scale",
    "to_log_scale_array",
]

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


def to_log_scale_array(values: FloatArray) -> FloatArray:
    """Vectorised `to_log_scale`: ``log`` of the positive values, the others unchanged.

    Examples
    --------
    >>> to_log_scale_array(np.array([1.0, -2.0, np.nan])).tolist()
    [0.0, -2.0, nan]
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(values > 0, np.log(np.where(values > 0, values, 1.0)), values)


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
            self._recompute()

    def extend(self, values: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Add finite values as `update` would, one by one, in a few array operations.

        Only for a full window (``n_seen >= size``); values must be finite.

        Returns
        -------
        (numpy.ndarray, numpy.ndarray)
            For each value, the median and the MAD the window held just before it was added.
        """
        n_values = values.size
        # after j more values the window recomputes when (n_seen + j) % every == 0, from the
        # last `size` values: combined[j : j + size], with the buffer oldest first
        ends = np.arange(self.every - self.n_seen % self.every, n_values + 1, self.every)
        oldest = self.n_seen % self.size
        combined = np.concatenate((self._buffer[oldest:], self._buffer[:oldest], values))
        windows = np.lib.stride_tricks.sliding_window_view(combined, self.size)[ends]
        medians = _row_medians(windows)
        mads = _row_medians(np.abs(windows - medians[:, None]))
        medians = np.concatenate(([self.median], medians))
        mads = np.concatenate(([self.mad], mads))
        # value i is compared with the statistics of the last recomputation before it
        before = np.searchsorted(ends, np.arange(n_values), side="right")
        kept = values[-self.size :]
        self._buffer[(self.n_seen + n_values - kept.size + np.arange(kept.size)) % self.size] = kept
        self.n_seen += n_values
        self.median, self.mad = float(medians[-1]), float(mads[-1])
        return medians[before], mads[before]

    def _recompute(self) -> None:
        filled = self._buffer[: min(self.n_seen, self.size)]
        self.median = _median(filled)
        self.mad = _median(np.abs(filled - self.median))


def _median(values: FloatArray) -> float:
    """Median of finite values (one row of `_row_medians`, so both give the same floats)."""
    return float(_row_medians(values.reshape(1, -1))[0])


def _row_medians(rows: FloatArray) -> FloatArray:
    """Median of each row; ``np.partition`` directly (np.median's overhead is larger)."""
    n = rows.shape[1]
    middle = n // 2
    if n % 2:
        return np.partition(rows, middle, axis=1)[:, middle]
    part = np.partition(rows, (middle - 1, middle), axis=1)
    return 0.5 * (part[:, middle - 1] + part[:, middle])


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


@dataclass(frozen=True, slots=True)
class SpikeBlock:
    """What one `SpikeTest.update_many` found.

    Parameters
    ----------
    z_scores : numpy.ndarray
        Robust z-score of each value (NaN while warming up and for non-finite values).
    region_starts : tuple of int
        Positions in the block of the values that start a spike region.
    """

    z_scores: FloatArray
    region_starts: tuple[int, ...]


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
    refresh_every : int, default=16
        Updates between recomputations of the window's median and MAD (fewer is cheaper;
        `update_many` tests this many values per array operation).

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
    refresh_every: int = 16
    _stats: RobustWindow = field(init=False, repr=False)
    _calm: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        check_float(self, "z_threshold", low=0.0, low_open=True)
        check_int(self, "min_points", low=3)
        check_int(self, "cooldown", low=0)
        check_float(self, "min_scale", low=0.0, low_open=True)
        check_float(self, "min_jump", low=0.0)
        self._stats = RobustWindow(size=self.window, every=self.refresh_every)
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

    def update_many(self, values: FloatArray) -> SpikeBlock:
        """Test a block of values in order; the same outcome as one `update` per value.

        Once the window is full, the statistics every value is compared with come from one
        vectorised pass over the block (`RobustWindow.extend`); warm-up values go through
        `update` one at a time.

        Returns
        -------
        SpikeBlock
        """
        values = np.asarray(values, dtype=float)
        z_scores = np.full(values.size, np.nan)
        starts: list[int] = []
        position = 0
        stats = self._stats
        while position < values.size and stats.n_seen < max(stats.size, self.min_points):
            update = self.update(float(values[position]))
            z_scores[position] = update.z_score
            if update.starts_region:
                starts.append(position)
            position += 1
        if position < values.size:
            self._test_warm(values[position:], z_scores[position:], starts, position)
        return SpikeBlock(z_scores=z_scores, region_starts=tuple(starts))

    def _test_warm(
        self, values: FloatArray, z_out: FloatArray, starts: list[int], offset: int
    ) -> None:
        """Test values once the window is full (non-finite ones are calm and not added)."""
        finite = np.isfinite(values)
        tested = values[finite]
        medians, mads = self._stats.extend(tested)
        excess = tested - medians
        z_scores = excess / np.maximum(_MAD_TO_SIGMA * mads, self.min_scale)
        z_out[finite] = z_scores
        is_spike = (z_scores > self.z_threshold) & (excess >= self.min_jump)
        spikes = np.flatnonzero(finite)[is_spike]
        calm = self._calm
        previous = -1
        for index in spikes.tolist():
            calm += index - previous - 1  # calm values since the previous spike
            if calm >= self.cooldown:
                starts.append(offset + index)
            calm, previous = 0, index
        self._calm = calm + values.size - previous - 1


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
    # one slot per run, oldest first: slots lo..hi-1 hold run lengths hi-1-lo..0
    _mu: FloatArray = field(init=False, repr=False)
    _kappa: FloatArray = field(init=False, repr=False)
    _beta: FloatArray = field(init=False, repr=False)
    _twice_alpha: IntArray = field(init=False, repr=False)
    _log_r: FloatArray = field(init=False, repr=False)
    _lo: int = field(default=0, init=False)
    _hi: int = field(default=0, init=False)
    _prior: tuple[float, float, int, float] = field(default=(0.0, 0.0, 0, 0.0), init=False)
    _log_const: FloatArray = field(init=False, repr=False)
    _exponent: FloatArray = field(init=False, repr=False)
    _origin: int = field(default=0, init=False)
    _warmup: list[float] = field(default_factory=list, init=False, repr=False)

    def __post_init__(self) -> None:
        check_float(self, "hazard", low=0.0, high=1.0, low_open=True)
        check_int(self, "max_run_length", low=self.max_lag + 2)
        check_float(self, "threshold", low=0.0, high=1.0, low_open=True)
        check_int(self, "max_lag", low=1)
        check_int(self, "n_warmup", low=3)
        capacity = 2 * self.max_run_length  # room to append before compacting
        self._mu, self._kappa, self._beta = (np.zeros(capacity) for _ in range(3))
        self._twice_alpha = np.zeros(capacity, dtype=np.intp)
        self._log_r = np.full(capacity, -np.inf)

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
        return np.exp(self._log_r[self._lo : self._hi][::-1])

    def _start(self) -> None:
        values = np.asarray(self._warmup)
        scale = max(_MAD_TO_SIGMA * float(np.median(np.abs(values - np.median(values)))), 1e-6)
        # weak prior on the mean (kappa), prior mean of the variance equal to scale**2
        mu0, kappa0, alpha0, beta0 = float(np.median(values)), 0.1, 2, scale**2
        self._prior = (mu0, kappa0, 2 * alpha0, beta0)
        n, mean = values.size, float(values.mean())
        # the first run starts with the posterior given the warm-up values
        self._mu[0] = (kappa0 * mu0 + n * mean) / (kappa0 + n)
        self._kappa[0] = kappa0 + n
        self._twice_alpha[0] = 2 * alpha0 + n
        self._beta[0] = (
            beta0
            + 0.5 * float(((values - mean) ** 2).sum())
            + kappa0 * n * (mean - mu0) ** 2 / (2 * (kappa0 + n))
        )
        # Student-t terms that depend on the degrees of freedom 2 * alpha only, by 2 * alpha
        df = np.arange(2 * alpha0 + n + self.max_run_length + 4, dtype=float)
        df[0] = 1.0  # unused (alpha >= 2); avoids log(0)
        log_norm = gammaln((df + 1) / 2) - gammaln(df / 2) - 0.5 * np.log(np.pi * df)
        self._log_const = log_norm + 0.5 * np.log(df)
        self._exponent = (df + 1) / 2  # alpha + 1/2
        self._log_r[0] = 0.0
        self._lo, self._hi = 0, 1
        self._origin = 0
        self._warmup = []

    def _step(self, value: float) -> None:
        r"""One update of the run-length posterior and of each run's posterior.

        With :math:`q = 2\beta(\kappa + 1)/\kappa` the Student-t predictive is
        :math:`\log \pi = c(2\alpha) - \tfrac12 \log q - (\alpha + \tfrac12)
        \log(1 + (x - \mu)^2 / q)`, where :math:`c` holds the terms of the degrees of
        freedom alone (tabulated); every array operation works in place on the live runs.
        """
        lo, hi = self._lo, self._hi
        mu, kappa, beta = self._mu[lo:hi], self._kappa[lo:hi], self._beta[lo:hi]
        twice_alpha, log_r = self._twice_alpha[lo:hi], self._log_r[lo:hi]
        diff = value - mu
        dev2 = diff * diff
        kappa_next = kappa + 1.0
        q = kappa_next / kappa
        q *= beta
        q *= 2.0
        tail = dev2 / q
        np.log1p(tail, out=tail)
        tail *= self._exponent[twice_alpha]
        np.log(q, out=q)
        q *= 0.5
        log_r += self._log_const[twice_alpha]
        log_r -= q
        log_r -= tail  # now the joint log P(r) + log pi_r
        top = float(log_r.max())
        log_evidence = top + math.log(float(np.exp(log_r - top).sum()))
        log_r += math.log1p(-self.hazard) - log_evidence  # growth
        diff /= kappa_next
        mu += diff
        dev2 *= kappa
        dev2 /= 2.0 * kappa_next
        beta += dev2
        kappa += 1.0
        twice_alpha += 1
        self._append_run()

    def _append_run(self) -> None:
        """Add the run of length 0; merge the longest into the next when over the limit."""
        if self._hi - self._lo == self.max_run_length:
            lo = self._lo
            self._log_r[lo + 1] = np.logaddexp(self._log_r[lo], self._log_r[lo + 1])
            self._lo = lo + 1
        if self._hi == self._mu.size:  # out of room: move the live runs to the front
            lo, hi = self._lo, self._hi
            for array in (self._mu, self._kappa, self._beta, self._twice_alpha, self._log_r):
                array[: hi - lo] = array[lo:hi]
            self._lo, self._hi = 0, hi - lo
        hi = self._hi
        mu0, kappa0, twice_alpha0, beta0 = self._prior
        self._mu[hi], self._kappa[hi], self._beta[hi] = mu0, kappa0, beta0
        self._twice_alpha[hi] = twice_alpha0
        self._log_r[hi] = math.log(self.hazard)  # P(r = 0) is the hazard (evidence cancels)
        self._hi = hi + 1
        self._origin = min(self._origin + 1, self._hi - self._lo - 1)

    def _report(self) -> int | None:
        index = self.n_seen - 1
        # run lengths shorter than the run that began at the end of the warm-up
        n_recent = min(self.max_lag, self._origin)
        if n_recent == 0:
            return None
        recent = np.exp(self._log_r[self._hi - n_recent : self._hi][::-1])  # r = 0, 1, ...
        if float(recent.sum()) < self.threshold:
            return None
        run_length = int(np.argmax(recent))
        start = index - run_length + 1  # run r holds the last r values
        if self.last_change >= 0 and start <= self.last_change + self.max_lag:
            return None
        self.last_change = start
        return start
