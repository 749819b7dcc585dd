"""Read a Lightning training step's loss from a torch optimizer step post-hook.

Lightning calls a callback's ``on_train_batch_end`` through its own dispatch (a profiler
context and the hook's lookup), which costs several microseconds per callback and step.
A post-hook registered with ``torch.optim.Optimizer.register_step_post_hook`` is called
from the optimizer's ``step`` for well under one. In automatic optimization Lightning
passes the optimizer a closure (``functools.partial`` wrappers around its ``Closure``)
that keeps the step's result, whose ``loss`` is the detached loss Lightning later hands
to ``on_train_batch_end`` as ``outputs["loss"]``. `closure_loss` reads it from there;
`LightningMonitor`'s post-hook reads the usual layout (one ``partial``) inline, since a
call costs microseconds inside a training step, and calls `closure_loss` for any other.

That layout is Lightning's, not a public API: `LightningMonitor` relies on it only while
the loss read here is the very object ``on_train_batch_end`` receives at the steps where
Lightning calls both (checked at each of them).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import lightning.pytorch as pl

__all__ = ["can_tap_closure", "closure_loss"]


def closure_loss(kwargs: Mapping[str, Any]) -> Any:
    """Return the loss Lightning's closure computed in this optimizer step, or None.

    Parameters
    ----------
    kwargs : mapping
        The keyword arguments of ``optimizer.step`` (a step post-hook's third argument).

    Returns
    -------
    torch.Tensor or None
        The detached loss; None when there is no closure or it has no result.
    """
    closure = kwargs.get("closure")
    while isinstance(closure, functools.partial):  # the precision plugin's wrapper
        closure = closure.args[-1] if closure.args else None
    result = getattr(closure, "_result", None)
    return getattr(result, "loss", None)


def can_tap_closure(trainer: pl.Trainer) -> bool:
    """Whether each optimizer step of ``trainer`` is one training batch with one loss.

    True in automatic optimization with one optimizer and no gradient accumulation; in
    manual optimization or with accumulated batches, optimizer steps and batches differ.
    """
    module = trainer.lightning_module
    return (
        module is not None
        and module.automatic_optimization
        and len(trainer.optimizers) == 1
        and trainer.accumulate_grad_batches == 1
    )
