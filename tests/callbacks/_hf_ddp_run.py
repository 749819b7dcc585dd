"""A two-process CPU DDP Hugging Face Trainer run with HFMonitor (for test_hf_ddp.py).

Usage: python -m torch.distributed.run --nproc_per_node 2 _hf_ddp_run.py OUT_DIR LR
{watch,stop}. Each process writes ``rank<N>.json`` into OUT_DIR with what its monitor saw.
"""

from __future__ import annotations

import json
import logging
import sys
import warnings
from pathlib import Path
from typing import Any

import torch
from sklearn.datasets import load_digits
from transformers import Trainer, TrainingArguments

from dynamics_stats.callbacks import HFMonitor, MonitorConfig

MAX_STEPS = 200
STOP_AT = 0.5  # as in test_hf.py


class Digits(torch.utils.data.Dataset):  # type: ignore[misc]
    def __init__(self) -> None:
        x, y = load_digits(return_X_y=True)
        self.x = torch.tensor(x / 16, dtype=torch.float32)
        self.y = torch.tensor(y)

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, index: int) -> dict[str, Any]:
        return {"x": self.x[index], "labels": self.y[index]}


class DigitsMLP(torch.nn.Module):  # type: ignore[misc]
    """64-32-10 tanh MLP returning {"loss": ...}, as the Trainer expects."""

    def __init__(self) -> None:
        super().__init__()
        self.net = torch.nn.Sequential(
            torch.nn.Linear(64, 32), torch.nn.Tanh(), torch.nn.Linear(32, 10)
        )

    def forward(self, x: Any, labels: Any = None) -> dict[str, Any]:
        logits = self.net(x)
        return {"loss": torch.nn.functional.cross_entropy(logits, labels), "logits": logits}


def main() -> None:
    out, lr, mode = Path(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
    warnings.filterwarnings("ignore")
    logging.getLogger("transformers").setLevel(logging.ERROR)
    torch.set_num_threads(1)
    torch.manual_seed(0)
    args = TrainingArguments(
        output_dir=str(out),
        report_to=[],
        use_cpu=True,
        ddp_backend="gloo",
        max_steps=MAX_STEPS,
        logging_steps=1,
        learning_rate=lr,
        optim="sgd",
        lr_scheduler_type="constant",
        per_device_train_batch_size=32,
        save_strategy="no",
        disable_tqdm=True,
        seed=0,
    )
    config = MonitorConfig(
        analysis_in_background=False, analysis_every_n_steps=50, max_analysis_time_frac=None
    )
    monitor = HFMonitor(config, stop_on_divergence=STOP_AT if mode == "stop" else None)
    trainer = Trainer(model=DigitsMLP(), args=args, train_dataset=Digits(), callbacks=[monitor])
    trainer.train()
    seen = {
        "rank": args.process_index,
        "global_step": trainer.state.global_step,
        "alerts": [alert.kind for alert in monitor.alerts],
        "analyses": monitor.monitor.n_analyses,
        "losses_seen": len(monitor.monitor.history.snapshot().get("train_loss", ((), ()))[0]),
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / f"rank{args.process_index}.json").write_text(json.dumps(seen))


if __name__ == "__main__":
    main()
