"""Infer a metric's role and direction from the name real loggers give it.

The names come from Lightning (``train_loss_step``, ``val_acc``, ``lr-Adam``,
``grad_2.0_norm_total``), the HF Trainer (``loss``, ``eval_loss``, ``grad_norm``,
``learning_rate``), Keras (``loss``, ``val_accuracy``, ``lr``), slash styles (``train/loss``,
``valid/...``, ``eval/...``) and others (``ValLoss``, ``trl``/``tel``, ``test_acc1``).
"""

from __future__ import annotations

import re

from dynamics_stats.core.types import Direction, Role

__all__ = ["infer_role", "is_total_loss", "name_tokens"]

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SPLIT = re.compile(r"[^a-z0-9.]+|(?<=[a-z])\.(?=[a-z])")

VAL_TOKENS = frozenset({"val", "valid", "validation", "eval", "evaluation", "test", "dev", "tel"})
TRAIN_TOKENS = frozenset({"train", "training", "trn", "trl", "tr"})
LOSS_TOKENS = frozenset({"loss", "losses", "nll", "xent", "trl", "tel", "objective", "elbo"})
LOWER_BETTER = frozenset(
    {"error", "err", "perplexity", "ppl", "wer", "cer", "mse", "mae", "rmse", "mape", "nmse"}
)
HIGHER_BETTER = frozenset(
    {
        "acc",
        "accuracy",
        "accuracies",
        "acc1",
        "acc5",
        "top1",
        "top5",
        "f1",
        "auc",
        "auroc",
        "auprc",
        "map",
        "map50",
        "map50-95",
        "precision",
        "recall",
        "bleu",
        "sacrebleu",
        "rouge",
        "rouge1",
        "rouge2",
        "rougel",
        "rougelsum",
        "iou",
        "miou",
        "dice",
        "r2",
        "score",
        "spearman",
        "pearson",
        "corr",
        "mcc",
        "kappa",
        "exact",
        "em",
        "psnr",
        "ssim",
    }
)
SYSTEM_TOKENS = frozenset(
    {
        "runtime",
        "samples",
        "steps",
        "per",
        "second",
        "flos",
        "throughput",
        "ms",
        "mfu",
        "memory",
        "mem",
        "elapsed",
        "time",
        "seconds",
        "tok",
        "tokens",
        "epoch",
        "step",
        "percentage",
        "ratio",
        "parameters",
        "params",
        "batches",
        "iterations",
        "hours",
        "timestamp",
        "num",
        "progress",
    }
)
_LR_TOKENS = frozenset({"lr", "learning", "learningrate"})
_NOT_LR = frozenset({"momentum", "decay", "beta", "beta1", "beta2", "wd"})
_CLIP_NAMES = re.compile(
    r"(clip_?(threshold|value|val|norm)$|^max_grad_norm$|gradient_clip_val|grad_clip_(value|norm)$)"
)
_CLIPPED = re.compile(r"(after_?clip|clipped|post_?clip)")
_LAYER = re.compile(r"(weight|bias|layer|block|blocks|\.\d+\.|encoder|decoder|head|embed)")
_MODIFIERS = frozenset({"step", "epoch", "total", "avg", "mean", "overall", "all"})


def name_tokens(name: str) -> tuple[str, ...]:
    """Split a metric name into lower-case tokens (camel case, ``/``, ``_``, ``-``, spaces).

    Examples
    --------
    >>> name_tokens("ValLoss")
    ('val', 'loss')
    >>> name_tokens("train/loss_step")
    ('train', 'loss', 'step')
    """
    lowered = _CAMEL.sub(" ", name.strip().replace("mAP", "map")).lower()
    return tuple(t for t in _SPLIT.split(lowered) if t)


def _stage(tokens: tuple[str, ...]) -> str:
    if VAL_TOKENS.intersection(tokens):
        return "val"
    if TRAIN_TOKENS.intersection(tokens):
        return "train"
    return ""


def _is_loss(tokens: tuple[str, ...], lowered: str) -> bool:
    return bool(LOSS_TOKENS.intersection(tokens)) or lowered.endswith("loss")


def _metric_direction(tokens: tuple[str, ...]) -> Direction:
    if LOWER_BETTER.intersection(tokens):
        return "min"
    if HIGHER_BETTER.intersection(tokens) or any(t.startswith("rouge") for t in tokens):
        return "max"
    return "none"


def _grad_role(tokens: tuple[str, ...], lowered: str) -> Role | None:
    has_grad = any(t.startswith("grad") for t in tokens) or "gnorm" in tokens
    if not (has_grad and ("norm" in lowered or "gnorm" in tokens)):
        return None
    if "ratio" in tokens:
        return "other"
    if _CLIPPED.search(lowered):
        return "grad_norm_clipped"
    after_norm = lowered.split("norm", 1)[-1]
    if _LAYER.search(after_norm) and not after_norm.endswith("total"):
        return "layer_grad_norm"
    return "grad_norm"


def _special_role(tokens: tuple[str, ...], lowered: str) -> Role | None:
    if _CLIP_NAMES.search(lowered):
        return "clip_threshold"
    grad = _grad_role(tokens, lowered)
    if grad is not None:
        return grad
    is_lr = bool(_LR_TOKENS.intersection(tokens)) or "learning_rate" in lowered
    if is_lr:
        return "other" if _NOT_LR.intersection(tokens) else "learning_rate"
    return None


def infer_role(name: str) -> tuple[Role, Direction]:
    """Return the role and direction a metric name implies.

    Parameters
    ----------
    name : str
        The metric name as logged.

    Returns
    -------
    (Role, Direction)
        ``direction`` is ``"min"`` for losses and errors, ``"max"`` for accuracies and
        scores, ``"none"`` for learning rates, gradient norms and unknown quantities.

    Examples
    --------
    >>> infer_role("eval_loss")
    ('val_loss', 'min')
    >>> infer_role("lr-SGD/pg1")
    ('learning_rate', 'none')
    >>> infer_role("val_accuracy")
    ('val_metric', 'max')
    """
    tokens = name_tokens(name)
    lowered = "_".join(tokens)
    special = _special_role(tokens, lowered)
    if special is not None:
        return special, "none"
    stage = _stage(tokens)
    if _is_loss(tokens, lowered):
        return ("val_loss" if stage == "val" else "train_loss"), "min"
    direction = _metric_direction(tokens)
    if direction == "none" and SYSTEM_TOKENS.intersection(tokens):
        return "other", "none"
    if stage == "val":
        return "val_metric", direction
    if stage == "train" or direction != "none":
        return "train_metric", direction
    return "other", "none"


def is_total_loss(name: str) -> bool:
    """Whether a loss name is the overall loss rather than a component (``box_loss``).

    Examples
    --------
    >>> is_total_loss("train_loss_step"), is_total_loss("train/box_loss")
    (True, False)
    """
    tokens = set(name_tokens(name)) - VAL_TOKENS - TRAIN_TOKENS - _MODIFIERS
    return tokens <= {"loss"} or tokens <= LOSS_TOKENS
