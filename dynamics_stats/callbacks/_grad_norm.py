"""`total_grad_norm`: the L2 norm of all gradients of a module, computed cheaply."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["GradNormSchedule", "total_grad_norm"]

_MAX_INTERVAL = 64  # the norm is computed at least every 64 steps
_WARMUP_STEPS = 8  # steps computed at every step while the costs are measured
_SMOOTHING = 8  # the moving averages give the newest time a weight of 1/8


def total_grad_norm(parameters: Iterable[Any]) -> float | None:
    """Return the total L2 norm of the parameters' gradients (None when there are none).

    Parameters
    ----------
    parameters : iterable of torch.nn.Parameter
        Typically ``module.parameters()``.

    Returns
    -------
    float or None
        ``sqrt(sum of squared per-tensor norms)``; NaN or inf when a gradient holds one.

    Notes
    -----
    One fused ``torch._foreach_norm`` call over the gradients, then a sum over the (few)
    per-tensor norms: about 10-20 microseconds for a small network on CPU, several times
    less than ``torch.nn.utils.get_total_norm`` there.
    """
    import torch

    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return None
    norms = torch._foreach_norm(grads)
    if len(norms) <= 8:  # a few scalars: cheaper as Python floats
        total = sum(n.item() ** 2 for n in norms)
    else:
        total = torch.stack(norms).double().square().sum().item()
    return math.sqrt(total) if total >= 0 else math.nan


class GradNormSchedule:
    """Decide at which steps to compute the gradient norm, so it costs a bounded share.

    Parameters
    ----------
    every : int or None, default=None
        A fixed interval in steps; None chooses it from measured times.
    cost_frac : float, default=0.001
        With ``every=None``: the largest share of the training time the norm may take,
        with the bookkeeping of its step when the caller times it (``started``, `charge`).
        The interval is ``ceil(norm time / (cost_frac * step time))`` (at most 64), from
        exponential moving averages of both times; 1 whenever the norm is cheap enough.
        The step time is measured between two computations, so nothing is timed at the
        other steps.

    Notes
    -----
    On the digits MLP of ``benchmarks/bench_callback.py`` (a 1.7 ms step, a 26 us norm)
    this computes the norm about every 15th to 40th step; with the same norm time and a
    step of 26 ms or more, at every step (larger models take longer for both). A NaN/Inf
    gradient makes the parameters NaN after the optimizer step, so the loss of the next
    step shows it even when the norm is not computed at that step.

    Examples
    --------
    >>> schedule = GradNormSchedule(every=4)
    >>> [schedule.due() for _ in range(6)]
    [True, False, False, False, True, False]
    """

    def __init__(self, every: int | None = None, cost_frac: float = 0.001) -> None:
        self.every = every
        self.cost_frac = cost_frac
        self.interval = every or 1
        self.n_computed = 0
        self._countdown = 0
        self._norm_seconds = 0.0
        self._step_seconds = 0.0
        self._last_due: float | None = None

    def due(self) -> bool:
        """Whether to compute the norm at this step (call once per optimizer step)."""
        if self._countdown > 0:
            self._countdown -= 1
            return False
        if self.every is None:
            self._adapt()
        self._countdown = self.interval - 1
        return True

    def steps_before_due(self) -> int:
        """How many coming `due` calls return False (0: the next one returns True)."""
        return self._countdown

    def skip(self, n_steps: int) -> None:
        """Count ``n_steps`` steps (at most `steps_before_due`) without calling `due`."""
        self._countdown -= min(n_steps, self._countdown)

    def compute(
        self, norm: Callable[[], float | None], started: float | None = None
    ) -> float | None:
        """Call ``norm()`` and time it (the time sets the interval when ``every`` is None).

        Parameters
        ----------
        norm : callable
            Computes the norm.
        started : float, optional
            A ``time.perf_counter()`` reading taken when the norm step's work began (the
            hook's entry): the time from then on is charged, not only ``norm()``'s.
        """
        start = time.perf_counter() if started is None else started
        value = norm()
        if self.every is None:
            self._norm_seconds = _smooth(self._norm_seconds, time.perf_counter() - start)
        self.n_computed += 1
        return value

    def charge(self, seconds: float) -> None:
        """Add work the last computed norm caused later (its bookkeeping) to its cost.

        The smoothed cost then is what it would be had ``compute`` timed this too.
        """
        if self.every is None and self.n_computed:
            self._norm_seconds += seconds if self.n_computed == 1 else seconds / _SMOOTHING

    def _adapt(self) -> None:
        """Update the step time from the time since the last due step, then the interval."""
        now = time.perf_counter()
        if self._last_due is not None:
            step = (now - self._last_due - self._norm_seconds) / self.interval
            self._step_seconds = _smooth(self._step_seconds, max(step, 0.0))
        self._last_due = now
        if self.n_computed >= _WARMUP_STEPS and self._step_seconds > 0:
            wanted = self._norm_seconds / (self.cost_frac * self._step_seconds)
            self.interval = min(max(math.ceil(wanted), 1), _MAX_INTERVAL)


def _smooth(previous: float, value: float) -> float:
    """Exponential moving average (weight 1/8 on the new value), started at the first."""
    return value if previous == 0.0 else previous + (value - previous) / _SMOOTHING
