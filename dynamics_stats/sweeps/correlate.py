"""Rank association of each (parameter, outcome) pair: Spearman, Kendall, Kruskal-Wallis."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy import stats

from dynamics_stats.core.types import FloatArray, IntArray
from dynamics_stats.sweeps._encoding import EncodedParameter
from dynamics_stats.sweeps.effects import Interval

__all__ = ["BootstrapRanks", "PairTest", "add_conditional_test", "associate_pair"]

#: Quantile groups a numeric parameter is cut into for the Kruskal-Wallis (any-shape) test.
N_BINS = 5
#: Fieller, Hartley & Pearson (1957): var(atanh(tau_b)) ~ 0.437 / (n - 4).
_KENDALL_VAR = 0.437


@dataclass(frozen=True)
class PairTest:
    """The association of one parameter with one outcome (None where not applicable)."""

    parameter: str
    outcome: str
    n: int
    p_value: float | None
    spearman: float | None
    spearman_interval: Interval | None
    spearman_p_value: float | None
    kendall: float | None
    kendall_interval: Interval | None
    kruskal_p_value: float | None
    epsilon_squared: float | None
    conditional_p_value: float | None = None


class BootstrapRanks:
    """Bootstrap resamples shared by every pair with the same complete rows.

    Rank matrices (one row per resample) are computed once per (rows, column) and reused,
    so the whole table costs one ``rankdata`` per column instead of one per pair.

    Parameters
    ----------
    n_bootstrap : int
        Resamples.
    seed : int
        Seed of the resampling.
    """

    def __init__(self, n_bootstrap: int, seed: int) -> None:
        self.n_bootstrap = n_bootstrap
        self.seed = seed
        self._indices: dict[bytes, IntArray] = {}
        self._ranks: dict[tuple[bytes, str], FloatArray] = {}

    def ranks(self, key: str, values: FloatArray, mask: np.ndarray) -> FloatArray:
        """Return the ranks of ``values[mask]`` in each resample, each row centred, unit norm."""
        mask_key = np.packbits(mask).tobytes() + mask.size.to_bytes(8, "little")
        if mask_key not in self._indices:
            rng = np.random.default_rng([self.seed, int(mask.sum())])
            m = int(mask.sum())
            self._indices[mask_key] = rng.integers(0, m, size=(self.n_bootstrap, m))
        cache_key = (mask_key, key)
        if cache_key not in self._ranks:
            ranks = _resample_ranks(values[mask], self._indices[mask_key])
            self._ranks[cache_key] = _standardize_rows(ranks)
        return self._ranks[cache_key]


def _resample_ranks(values: FloatArray, indices: IntArray) -> FloatArray:
    """Average ranks of ``values[indices[b]]`` within each resample b, without sorting.

    Each resample only repeats the original values, so the rank of a value is the number of
    drawn values below it plus half the ties: counts per distinct value and a cumulative sum
    give every row's ranks in O(n_bootstrap * n) (equal to ``scipy.stats.rankdata(axis=1)``).
    """
    distinct, inverse = np.unique(values, return_inverse=True)
    codes = inverse[indices]
    n_resamples, n_distinct = indices.shape[0], distinct.size
    offsets = (np.arange(n_resamples) * n_distinct)[:, None]
    counts = np.bincount((codes + offsets).ravel(), minlength=n_resamples * n_distinct)
    counts = counts.reshape(n_resamples, n_distinct)
    rank_of_distinct = np.cumsum(counts, axis=1) - counts + (counts + 1) / 2.0
    return np.asarray(np.take_along_axis(rank_of_distinct, codes, axis=1), dtype=np.float64)


def _standardize_rows(ranks: FloatArray) -> FloatArray:
    """Centre each row and scale it to unit norm (NaN rows where the resample is constant)."""
    centred = ranks - ranks.mean(axis=1, keepdims=True)
    norms = np.sqrt(np.einsum("ij,ij->i", centred, centred))[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(norms > 0, centred / norms, np.nan)


def _row_correlation(a: FloatArray, b: FloatArray) -> FloatArray:
    """Row-wise Pearson correlation of two standardized matrices."""
    return np.asarray(np.einsum("ij,ij->i", a, b), dtype=np.float64)


def _percentile_interval(samples: FloatArray, alpha: float) -> Interval | None:
    finite = samples[np.isfinite(samples)]
    if finite.size < 0.5 * samples.size:
        return None
    low, high = np.quantile(finite, [alpha / 2, 1 - alpha / 2])
    return (float(low), float(high))


def _kruskal(groups: IntArray, y: FloatArray) -> tuple[float | None, float | None]:
    """Kruskal-Wallis p-value and epsilon squared = H / (n - 1) (Tomczak & Tomczak 2014)."""
    samples = [y[groups == g] for g in np.unique(groups)]
    samples = [s for s in samples if s.size]
    if len(samples) < 2 or np.ptp(y) == 0:
        return None, None
    h, p = stats.kruskal(*samples)
    return float(p), float(min(1.0, h / (y.size - 1)))


def _rank_bins(x: FloatArray) -> IntArray:
    ranks = stats.rankdata(x)
    n_groups = min(N_BINS, np.unique(x).size)
    groups = np.minimum(((ranks - 0.5) / x.size * n_groups).astype(np.int64), n_groups - 1)
    return np.asarray(groups, dtype=np.int64)


def _kendall(x: FloatArray, y: FloatArray, alpha: float) -> tuple[float | None, Interval | None]:
    tau = stats.kendalltau(x, y).statistic
    if not np.isfinite(tau):
        return None, None
    if x.size <= 4:
        return float(tau), None
    half = stats.norm.ppf(1 - alpha / 2) * np.sqrt(_KENDALL_VAR / (x.size - 4))
    z = np.arctanh(np.clip(tau, -0.999999, 0.999999))
    return float(tau), (float(np.tanh(z - half)), float(np.tanh(z + half)))


def associate_pair(
    param: EncodedParameter,
    outcome: str,
    y: FloatArray,
    boot: BootstrapRanks,
    *,
    alpha: float,
) -> PairTest:
    """Test the association of ``param`` with outcome values ``y`` (NaN = missing).

    Parameters
    ----------
    param : EncodedParameter
        The encoded parameter.
    outcome : str
        Name of the outcome column (for the result and the rank cache).
    y : ndarray of float
        Outcome per run, NaN when missing.
    boot : BootstrapRanks
        Shared bootstrap resamples.
    alpha : float
        One minus the coverage of the intervals.

    Returns
    -------
    PairTest
        Only ``n`` is set when fewer than 3 runs have both values or either is constant.

    Notes
    -----
    Numeric parameters get Spearman's rho (bootstrap percentile interval), Kendall's tau-b
    (asymptotic interval on the Fisher scale) and a Kruskal-Wallis test over ``N_BINS``
    quantile groups, which also catches non-monotone (e.g. U-shaped) effects. Their pair
    p-value is the Bonferroni combination ``min(1, 2 min(p_spearman, p_kruskal))``.
    Booleans and categoricals are tested with Kruskal-Wallis alone (for booleans this is the
    two-sided Mann-Whitney test); booleans also get the rank correlations as effect sizes.
    """
    codes = param.codes
    x = param.values
    present = np.isfinite(y) & (codes >= 0 if x is None else np.isfinite(x))
    n = int(present.sum())
    empty = PairTest(param.name, outcome, n, None, None, None, None, None, None, None, None)
    if n < 3 or np.ptp(y[present]) == 0:
        return empty
    if x is None:
        p_kw, eps2 = _kruskal(codes[present], y[present])
        return PairTest(param.name, outcome, n, p_kw, None, None, None, None, None, p_kw, eps2)
    xs, ys = x[present], y[present]
    if np.ptp(xs) == 0:
        return empty
    rho, p_rho = stats.spearmanr(xs, ys)
    boot_rho = _row_correlation(
        boot.ranks(f"param:{param.name}", x, present), boot.ranks(f"outcome:{outcome}", y, present)
    )
    tau, tau_interval = _kendall(xs, ys, alpha)
    groups = xs.astype(np.int64) if param.kind == "boolean" else _rank_bins(xs)
    p_kw, eps2 = _kruskal(groups, ys)
    if param.kind == "boolean" or p_kw is None or not np.isfinite(p_rho):
        p_value = p_kw if param.kind == "boolean" else _finite_or_none(p_rho)
    else:
        p_value = min(1.0, 2.0 * min(float(p_rho), p_kw))
    return PairTest(
        parameter=param.name,
        outcome=outcome,
        n=n,
        p_value=p_value,
        spearman=_finite_or_none(rho),
        spearman_interval=_percentile_interval(boot_rho, alpha),
        spearman_p_value=_finite_or_none(p_rho),
        kendall=tau,
        kendall_interval=tau_interval,
        kruskal_p_value=p_kw,
        epsilon_squared=eps2,
    )


def _finite_or_none(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def add_conditional_test(test: PairTest, param: EncodedParameter, residual: FloatArray) -> PairTest:
    """Add a Kruskal-Wallis test of a level-valued parameter on the objective's residual.

    Parameters
    ----------
    test : PairTest
        The raw test of ``param`` against the objective.
    param : EncodedParameter
        A categorical or boolean parameter.
    residual : ndarray of float
        The objective net of the other parameters (`residual_objective`), NaN when missing.

    Returns
    -------
    PairTest
        With ``conditional_p_value`` set and ``p_value`` the Bonferroni combination
        ``min(1, 2 min(p_raw, p_conditional))``; unchanged when the residual test cannot run.
    """
    groups = param.codes if param.values is None else np.nan_to_num(param.values, nan=-1.0)
    groups = np.asarray(groups, dtype=np.int64)
    rows = np.isfinite(residual) & (groups >= 0)
    if rows.sum() < 3:
        return test
    p_conditional, _ = _kruskal(groups[rows], residual[rows])
    if p_conditional is None:
        return test
    raw = test.p_value
    combined = p_conditional if raw is None else min(1.0, 2.0 * min(raw, p_conditional))
    return replace(test, p_value=combined, conditional_p_value=p_conditional)
