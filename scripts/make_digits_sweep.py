"""Train a small random hyper-parameter sweep of Lightning MLPs on scikit-learn's digits.

Run ``python scripts/make_digits_sweep.py OUT_DIR`` (default
``dynamics_stats/examples/digits_sweep``). Each of the ``--n-runs`` runs (24 by default)
gets its own sub-folder ``run_NN`` holding Lightning's `CSVLogger` output, ``metrics.csv``
(per-step train loss, learning rate, total gradient norm; validation loss and accuracy
every ``--val-every`` steps) and ``hparams.yaml`` (written by ``save_hyperparameters``).

The hyper-parameters are drawn from one seeded generator:

- ``lr``: log-uniform on [1e-4, 1] (Adam or SGD with momentum 0.9),
- ``hidden``: one of 32, 64, 128, 256 (width of both hidden layers),
- ``dropout``: uniform on [0, 0.5],
- ``batch_size``: one of 16, 32, 64, 128,
- ``weight_decay``: log-uniform on [1e-6, 1e-2],
- ``optimizer``: "adam" or "sgd",
- ``tag``: an integer in [0, 999] that the training never reads (an inert parameter: a sweep
  analysis must not find it important).

Every run uses the same data split, initialisation seed and number of optimizer steps, so
only the drawn parameters differ. CPU only, one thread, no checkpoints, no progress bar;
about 5 s per run on one core. Needs ``lightning`` (``pip install "dynamics_stats[lightning]"``).
"""

from __future__ import annotations

import argparse
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
from lightning.pytorch.callbacks import LearningRateMonitor
from lightning.pytorch.loggers import CSVLogger
from lightning.pytorch.utilities import grad_norm
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

__all__ = ["SweepMLP", "draw_params", "main", "train_run"]

DEFAULT_OUT = Path(__file__).resolve().parents[1] / "dynamics_stats/examples/digits_sweep"


class SweepMLP(L.LightningModule):
    """A two-hidden-layer perceptron for the 8x8 digits with the swept hyper-parameters.

    Parameters
    ----------
    lr : float
        Learning rate (constant).
    hidden : int
        Width of both hidden layers.
    dropout : float
        Dropout probability after each hidden layer.
    batch_size : int
        Mini-batch size (recorded in ``hparams.yaml``; the loader uses it).
    weight_decay : float
        L2 weight decay of the optimizer.
    optimizer : str
        ``"adam"`` or ``"sgd"`` (momentum 0.9).
    tag : int
        Recorded in ``hparams.yaml`` and never used.
    """

    def __init__(  # noqa: PLR0913 - the swept hyper-parameters
        self,
        lr: float,
        hidden: int,
        dropout: float,
        batch_size: int,
        weight_decay: float,
        optimizer: str,
        tag: int,
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.net = nn.Sequential(
            nn.Linear(64, hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, 10),
        )
        self.loss = nn.CrossEntropyLoss()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return the class logits."""
        return self.net(x)  # type: ignore[no-any-return]

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        """Log and return the mini-batch cross-entropy."""
        x, y = batch
        loss = self.loss(self(x), y)
        self.log("train_loss", loss, on_step=True, on_epoch=False)
        return loss  # type: ignore[no-any-return]

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        """Log the validation cross-entropy and accuracy (averaged over the set)."""
        x, y = batch
        logits = self(x)
        self.log("val_loss", self.loss(logits, y))
        self.log("val_acc", (logits.argmax(dim=1) == y).float().mean())

    def on_before_optimizer_step(self, optimizer: torch.optim.Optimizer) -> None:
        """Log the total gradient 2-norm."""
        self.log("grad_2.0_norm_total", grad_norm(self, norm_type=2)["grad_2.0_norm_total"])

    def configure_optimizers(self) -> torch.optim.Optimizer:
        """Return Adam or SGD (momentum 0.9) with the swept LR and weight decay."""
        hp = self.hparams
        if hp["optimizer"] == "sgd":
            return torch.optim.SGD(
                self.parameters(), lr=hp["lr"], momentum=0.9, weight_decay=hp["weight_decay"]
            )
        return torch.optim.Adam(self.parameters(), lr=hp["lr"], weight_decay=hp["weight_decay"])


def draw_params(rng: np.random.Generator) -> dict[str, Any]:
    """Draw one run's hyper-parameters (plain Python values, as ``hparams.yaml`` stores them)."""
    return {
        "lr": float(10 ** rng.uniform(-4, 0)),
        "hidden": int(rng.choice([32, 64, 128, 256])),
        "dropout": round(float(rng.uniform(0.0, 0.5)), 3),
        "batch_size": int(rng.choice([16, 32, 64, 128])),
        "weight_decay": float(10 ** rng.uniform(-6, -2)),
        "optimizer": str(rng.choice(["adam", "sgd"])),
        "tag": int(rng.integers(0, 1000)),
    }


def _loaders(batch_size: int) -> tuple[DataLoader, DataLoader]:  # type: ignore[type-arg]
    digits = load_digits()
    x = torch.tensor(digits.data / 16.0, dtype=torch.float32)
    y = torch.tensor(digits.target, dtype=torch.long)
    x_tr, x_va, y_tr, y_va = train_test_split(x, y, train_size=600, stratify=y, random_state=0)
    generator = torch.Generator().manual_seed(0)
    train = DataLoader(
        TensorDataset(x_tr, y_tr), batch_size=batch_size, shuffle=True, generator=generator
    )
    return train, DataLoader(TensorDataset(x_va, y_va), batch_size=len(y_va))


def train_run(out_dir: Path, params: dict[str, Any], *, max_steps: int, val_every: int) -> Path:
    """Train one run with ``params`` and write its CSV log into ``out_dir``.

    Parameters
    ----------
    out_dir : pathlib.Path
        Folder for ``metrics.csv`` and ``hparams.yaml`` (replaced if it exists).
    params : dict
        The hyper-parameters from `draw_params`.
    max_steps : int
        Optimizer steps.
    val_every : int
        Steps between validation passes.

    Returns
    -------
    pathlib.Path
        The written ``metrics.csv``.
    """
    L.seed_everything(0, verbose=False)
    torch.set_num_threads(1)
    if out_dir.exists():
        shutil.rmtree(out_dir)
    model = SweepMLP(**params)
    train_loader, val_loader = _loaders(params["batch_size"])
    trainer = L.Trainer(
        accelerator="cpu",
        devices=1,
        max_steps=max_steps,
        val_check_interval=val_every,
        check_val_every_n_epoch=None,
        num_sanity_val_steps=0,
        log_every_n_steps=1,
        logger=CSVLogger(save_dir=out_dir, name="", version=""),
        callbacks=[LearningRateMonitor(logging_interval="step")],
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        deterministic=True,
    )
    trainer.fit(model, train_loader, val_loader)
    return out_dir / "metrics.csv"


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and train the sweep."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path, nargs="?", default=DEFAULT_OUT)
    parser.add_argument("--n-runs", type=int, default=24)
    parser.add_argument("--max-steps", type=int, default=300)
    parser.add_argument("--val-every", type=int, default=20)
    parser.add_argument("--seed", type=int, default=2026, help="seed of the parameter draws")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    start = time.perf_counter()
    for index in range(args.n_runs):
        params = draw_params(rng)
        folder = args.out_dir / f"run_{index:02d}"
        train_run(folder, params, max_steps=args.max_steps, val_every=args.val_every)
        print(f"{folder.name}: {params} ({time.perf_counter() - start:.0f} s)", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
