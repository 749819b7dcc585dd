"""Fixtures for the loader tests: a tiny real Lightning training on scikit-learn's digits."""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pytest


@dataclass
class TinyLightningRun:
    """Where a tiny Lightning training wrote its logs, and what it logged.

    ``logged`` maps each metric name to the ``(step, value)`` pairs the LightningModule
    recorded itself at the moment it logged them (step = optimizer steps already taken).
    """

    csv_dir: Path
    tensorboard_dir: Path
    logged: dict[str, list[tuple[int, float]]] = field(default_factory=dict)
    hparams: dict[str, object] = field(default_factory=dict)


def _train_tiny_digits(root: Path) -> TinyLightningRun:
    """Train a 64-16-10 MLP for one epoch of 32 steps with CSV and TensorBoard loggers."""
    import lightning as L
    import torch
    from lightning.pytorch.callbacks import LearningRateMonitor
    from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger
    from lightning.pytorch.utilities import grad_norm
    from sklearn.datasets import load_digits
    from torch import nn
    from torch.utils.data import DataLoader, TensorDataset

    logged: dict[str, list[tuple[int, float]]] = {}

    def record(name: str, step: int, value: torch.Tensor) -> None:
        logged.setdefault(name, []).append((step, float(value)))

    class Tiny(L.LightningModule):
        def __init__(self, hidden: int = 16, lr: float = 0.1) -> None:
            super().__init__()
            self.save_hyperparameters()
            self.first = nn.Linear(64, hidden)
            self.second = nn.Linear(hidden, 10)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.second(torch.relu(self.first(x)))

        def training_step(self, batch, batch_idx):
            x, y = batch
            loss = nn.functional.cross_entropy(self(x), y)
            self.log("train_loss", loss)
            record("train_loss", self.global_step, loss.detach())
            return loss

        def validation_step(self, batch, batch_idx):
            x, y = batch
            logits = self(x)
            loss = nn.functional.cross_entropy(logits, y)
            acc = (logits.argmax(1) == y).float().mean()
            self.log("val_loss", loss)
            self.log("val_acc", acc)
            record("val_loss", self.global_step, loss)
            record("val_acc", self.global_step, acc)

        def on_before_optimizer_step(self, optimizer):
            total = grad_norm(self, norm_type=2)["grad_2.0_norm_total"]
            self.log("grad_2.0_norm_total", total)
            record("grad_2.0_norm_total", self.global_step, total)

        def configure_optimizers(self):
            groups = [
                {"params": self.first.parameters(), "lr": self.hparams.lr},
                {"params": self.second.parameters(), "lr": self.hparams.lr / 2},
            ]
            optimizer = torch.optim.SGD(groups, lr=self.hparams.lr)
            scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=10, gamma=0.5)
            return {
                "optimizer": optimizer,
                "lr_scheduler": {"scheduler": scheduler, "interval": "step"},
            }

    digits = load_digits()
    x = torch.tensor(digits.data[:420] / 16.0, dtype=torch.float32)
    y = torch.tensor(digits.target[:420], dtype=torch.long)
    train = DataLoader(TensorDataset(x[:320], y[:320]), batch_size=10)
    val = DataLoader(TensorDataset(x[320:], y[320:]), batch_size=100)
    L.seed_everything(7, verbose=False)
    torch.set_num_threads(1)
    model = Tiny()
    csv_logger = CSVLogger(root, name="csv_logs")
    tb_logger = TensorBoardLogger(root, name="tb_logs")
    trainer = L.Trainer(
        accelerator="cpu",
        max_epochs=1,
        val_check_interval=8,
        num_sanity_val_steps=0,
        log_every_n_steps=1,
        logger=[csv_logger, tb_logger],
        callbacks=[LearningRateMonitor(logging_interval="step")],
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Lightning's advice (few workers...) is not under test
        trainer.fit(model, train, val)
    return TinyLightningRun(
        csv_dir=Path(csv_logger.log_dir),
        tensorboard_dir=Path(tb_logger.log_dir),
        logged=logged,
        hparams=dict(model.hparams),
    )


@pytest.fixture(scope="session")
def tiny_lightning_run(tmp_path_factory: pytest.TempPathFactory) -> TinyLightningRun:
    """One real Lightning training (1 epoch, 32 steps), logged to CSV and TensorBoard."""
    pytest.importorskip("lightning")
    pytest.importorskip("sklearn")
    logging.getLogger("lightning").setLevel(logging.ERROR)
    return _train_tiny_digits(tmp_path_factory.mktemp("tiny_lightning"))
