"""The digits data, MLP and Trainer settings of the Hugging Face Trainer tests."""

from __future__ import annotations

from typing import Any

import torch
from sklearn.datasets import load_digits
from transformers import TrainingArguments


def digits(start: int = 0, stop: int = 1797) -> list[dict[str, Any]]:
    """Digits ``start:stop`` as the examples the Trainer hands to the model (a list works)."""
    x, y = load_digits(return_X_y=True)
    inputs = torch.tensor(x[start:stop] / 16, dtype=torch.float32)
    labels = torch.tensor(y[start:stop])
    return [{"x": row, "labels": label} for row, label in zip(inputs, labels, strict=True)]


class DigitsMLP(torch.nn.Module):  # type: ignore[misc]
    """A 64-32-10 tanh MLP returning {"loss": ...}, as the Trainer expects."""

    def __init__(self) -> None:
        super().__init__()
        self.net = torch.nn.Sequential(
            torch.nn.Linear(64, 32), torch.nn.Tanh(), torch.nn.Linear(32, 10)
        )

    def forward(self, x: Any, labels: Any = None) -> dict[str, Any]:
        logits = self.net(x)
        return {"loss": torch.nn.functional.cross_entropy(logits, labels), "logits": logits}


def training_arguments(out_dir: str, lr: float, max_steps: int, **options: Any) -> Any:
    """Return the tests' settings: CPU, SGD at a constant ``lr``, batches of 32, a log each step."""
    settings: dict[str, Any] = {
        "report_to": [],
        "use_cpu": True,
        "logging_steps": 1,
        "optim": "sgd",
        "lr_scheduler_type": "constant",
        "per_device_train_batch_size": 32,
        "save_strategy": "no",
        "disable_tqdm": True,
        "seed": 0,
        **options,
    }
    return TrainingArguments(output_dir=out_dir, learning_rate=lr, max_steps=max_steps, **settings)
