"""Real training logs bundled with the package, for examples, notebooks and tests.

``digits_overfit``
    A PyTorch Lightning `CSVLogger` log (``metrics.csv`` + ``hparams.yaml``) of a wide MLP
    trained with Adam on 150 images of scikit-learn's digits, without regularisation: the
    validation loss reaches its minimum and then rises while the train loss keeps falling.
    Logged per step: ``train_loss_step``, ``lr-Adam``, ``grad_2.0_norm_total`` (before
    clipping); every 50 steps: ``val_loss``, ``val_acc``; per epoch: ``train_loss_epoch``.
    Produced by ``python -m dynamics_stats.examples.make_digits_overfit OUT_DIR``.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["EXAMPLES", "example_path"]

#: Names of the bundled example runs.
EXAMPLES: tuple[str, ...] = ("digits_overfit",)


def example_path(name: str = "digits_overfit") -> Path:
    """Return the folder of a bundled example run.

    Parameters
    ----------
    name : str, default="digits_overfit"
        One of `EXAMPLES`.

    Returns
    -------
    pathlib.Path
        The run's folder, ready for `dynamics_stats.io.load_run`.

    Raises
    ------
    LookupError
        If no example has that name; the message lists the available ones.

    Examples
    --------
    >>> from dynamics_stats.io import load_run
    >>> run = load_run(example_path())
    >>> run.format
    'lightning_csv'
    """
    if name not in EXAMPLES:
        raise LookupError(f"no example run named {name!r}. Available: {', '.join(EXAMPLES)}.")
    return Path(__file__).parent / name
