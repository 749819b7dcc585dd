"""Train a small Lightning MLP on scikit-learn's digits until it overfits, logging to CSV.

Run ``python -m dynamics_stats.examples.make_digits_overfit OUT_DIR``. It writes
``OUT_DIR/metrics.csv`` and ``OUT_DIR/hparams.yaml`` with Lightning's `CSVLogger`: per-step
train loss, Adam's learning rate (`LearningRateMonitor`) and the total gradient norm before
clipping (``grad_2.0_norm_total``), and validation loss and accuracy every
``val_every_n_steps`` steps. The training set is deliberately small and the network large,
with no regularisation, so the validation loss reaches a minimum and then rises while the
train loss keeps falling. The run is seeded and uses the CPU only (about 30 s on 2 cores).

Needs the ``lightning`` extra: ``pip install "dynamics_stats[lightning]"``.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import LearningRateMonitor
from lightning.pytorch.loggers import CSVLogger
from lightning.pytorch.utilities import grad_norm
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

__all__ = ["DigitsMLP", "main", "make_loaders", "train"]


class DigitsMLP(L.LightningModule):
    """A wide two-hidden-layer perceptron for the 8x8 digits, without any regularisation.

    Parameters
    ----------
    hidden : int, default=512
        Width of both hidden layers.
    lr : float, default=3e-4
        Adam's learning rate (constant, no weight decay).
    n_train : int, default=150
        Number of training images (recorded in ``hparams.yaml``).
    batch_size : int, default=32
        Mini-batch size (recorded in ``hparams.yaml``).
    seed : int, default=0
        Seed of the run (recorded in ``hparams.yaml``).
    """

    def __init__(
        self,
        hidden: int = 512,
        lr: float = 3e-4,
        n_train: int = 150,
        batch_size: int = 32,
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.net = nn.Sequential(
            nn.Linear(64, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
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
        self.log("train_loss", loss, on_step=True, on_epoch=True)
        return loss  # type: ignore[no-any-return]

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        """Log the validation cross-entropy and accuracy (averaged over the set)."""
        x, y = batch
        logits = self(x)
        self.log("val_loss", self.loss(logits, y))
        self.log("val_acc", (logits.argmax(dim=1) == y).float().mean())

    def on_before_optimizer_step(self, optimizer: torch.optim.Optimizer) -> None:
        """Log the total gradient 2-norm, before any clipping."""
        self.log("grad_2.0_norm_total", grad_norm(self, norm_type=2)["grad_2.0_norm_total"])

    def configure_optimizers(self) -> torch.optim.Optimizer:
        """Return Adam with a constant learning rate and no weight decay."""
        return torch.optim.Adam(self.parameters(), lr=self.hparams["lr"])


def make_loaders(*, n_train: int, batch_size: int, seed: int) -> tuple[DataLoader, DataLoader]:  # type: ignore[type-arg]
    """Split scikit-learn's digits into a small training set and a large validation set.

    Parameters
    ----------
    n_train : int
        Number of training images (stratified); the rest (up to 1,797) is for validation.
    batch_size : int
        Training mini-batch size; validation uses one batch.
    seed : int
        Seed of the split and of the shuffling.

    Returns
    -------
    (DataLoader, DataLoader)
        Training and validation loaders of (image, label) tensors, pixels scaled to [0, 1].
    """
    digits = load_digits()
    x = torch.tensor(digits.data / 16.0, dtype=torch.float32)
    y = torch.tensor(digits.target, dtype=torch.long)
    x_tr, x_va, y_tr, y_va = train_test_split(
        x, y, train_size=n_train, stratify=y, random_state=seed
    )
    generator = torch.Generator().manual_seed(seed)
    train = DataLoader(
        TensorDataset(x_tr, y_tr), batch_size=batch_size, shuffle=True, generator=generator
    )
    val = DataLoader(TensorDataset(x_va, y_va), batch_size=len(y_va))
    return train, val


def train(
    out_dir: Path, *, max_steps: int = 2500, val_every_n_steps: int = 50, seed: int = 0
) -> Path:
    """Train the overfitting run and write its CSV log into ``out_dir``.

    Parameters
    ----------
    out_dir : pathlib.Path
        Folder that receives ``metrics.csv`` and ``hparams.yaml`` (created if needed;
        a previous ``metrics.csv`` there is replaced).
    max_steps : int, default=2500
        Optimizer steps.
    val_every_n_steps : int, default=50
        Steps between validation passes.
    seed : int, default=0
        Seed of the split, the initialisation and the shuffling.

    Returns
    -------
    pathlib.Path
        The written ``metrics.csv``.
    """
    L.seed_everything(seed, verbose=False)
    torch.set_num_threads(1)
    model = DigitsMLP(seed=seed)
    train_loader, val_loader = make_loaders(
        n_train=model.hparams["n_train"], batch_size=model.hparams["batch_size"], seed=seed
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    trainer = L.Trainer(
        accelerator="cpu",
        devices=1,
        max_steps=max_steps,
        val_check_interval=val_every_n_steps,
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
    """Parse the command line, train, and print where the log was written."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path, help="folder for metrics.csv and hparams.yaml")
    parser.add_argument("--max-steps", type=int, default=2500)
    parser.add_argument("--val-every-n-steps", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    path = train(
        args.out_dir,
        max_steps=args.max_steps,
        val_every_n_steps=args.val_every_n_steps,
        seed=args.seed,
    )
    print(f"wrote {path} in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
