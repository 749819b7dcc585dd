"""A two-process CPU DDP run with LightningMonitor (started by test_distributed.py).

Usage: python _lightning_ddp_run.py OUT_DIR LR {watch,stop}. Lightning starts the second process by
running this script again; each process writes ``rank<N>.json`` into OUT_DIR with what its
monitor saw.
"""

from __future__ import annotations

import logging
import sys
import warnings
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import torch
from _distributed import write_rank_record
from sklearn.datasets import load_digits

from dynamics_stats.callbacks import LightningMonitor, MonitorConfig

MAX_STEPS = 300
STOP_AT = 0.5  # as in test_lightning.py


class DigitsMLP(pl.LightningModule):
    """64-32-10 tanh MLP trained with plain SGD (the model of test_lightning.py)."""

    def __init__(self, lr: float) -> None:
        super().__init__()
        self.lr = lr
        self.net = torch.nn.Sequential(
            torch.nn.Linear(64, 32), torch.nn.Tanh(), torch.nn.Linear(32, 10)
        )

    def training_step(self, batch: Any, batch_idx: int) -> Any:
        x, y = batch
        return torch.nn.functional.cross_entropy(self.net(x), y)

    def configure_optimizers(self) -> Any:
        return torch.optim.SGD(self.parameters(), lr=self.lr)


def main() -> None:
    out, lr, mode = Path(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
    warnings.filterwarnings("ignore")
    logging.getLogger("lightning").setLevel(logging.ERROR)
    torch.manual_seed(0)
    x, y = load_digits(return_X_y=True)
    data = torch.utils.data.TensorDataset(
        torch.tensor(x / 16, dtype=torch.float32), torch.tensor(y)
    )
    loader = torch.utils.data.DataLoader(data, batch_size=32, shuffle=True)
    config = MonitorConfig(
        analysis_in_background=False, analysis_every_n_steps=50, max_analysis_time_frac=None
    )
    monitor = LightningMonitor(config, stop_on_divergence=STOP_AT if mode == "stop" else None)
    trainer = pl.Trainer(
        max_steps=MAX_STEPS,
        accelerator="cpu",
        devices=2,
        strategy="ddp",
        default_root_dir=out,
        logger=False,
        callbacks=[monitor],
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    trainer.fit(DigitsMLP(lr), loader)
    write_rank_record(out, trainer.global_rank, trainer.global_step, monitor)


if __name__ == "__main__":
    main()
