"""Data, networks and the Lightning module used by ``make_runs.py`` (CPU, nothing downloads)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import lightning.pytorch as pl
import numpy as np
import torch
from sklearn import datasets
from torch import nn
from torch.utils.data import (
    BatchSampler,
    DataLoader,
    RandomSampler,
    TensorDataset,
)

_LOADERS = {
    "digits": datasets.load_digits,
    "breast_cancer": datasets.load_breast_cancer,
    "wine": datasets.load_wine,
    "iris": datasets.load_iris,
    "diabetes": datasets.load_diabetes,
}


@dataclass(frozen=True)
class Split:
    """Standardised train and validation tensors of one dataset."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    n_classes: int  # 0 for regression


def load_split(name: str, *, n_train: int, seed: int) -> Split:
    """Shuffle, split (``n_train`` for training, at most the rest for validation), standardise."""
    bunch = _LOADERS[name]()
    x, y = bunch.data.astype(np.float32), bunch.target
    order = np.random.default_rng(seed).permutation(len(x))
    n_train = min(n_train, int(0.75 * len(x)))
    train, val = order[:n_train], order[n_train:]
    mean, std = x[train].mean(0), x[train].std(0)
    std[std < 1e-3] = 1.0  # constant pixels in the training subset stay unscaled
    x = (x - mean) / std
    regression = name == "diabetes"
    if regression:
        y = ((y - y[train].mean()) / y[train].std()).astype(np.float32)
        y_t = torch.tensor(y).unsqueeze(1)
    else:
        y_t = torch.tensor(y, dtype=torch.long)
    x_t = torch.tensor(x)
    n_classes = 0 if regression else int(y.max()) + 1
    return Split(x_t[train], y_t[train], x_t[val], y_t[val], n_classes)


def build_net(spec: object, n_in: int, n_out: int) -> nn.Module:
    """Build an MLP (``spec.hidden`` widths) or a small CNN on 8x8 digits, scaled weights."""
    act = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}[spec.activation]
    if spec.model == "cnn":
        net: nn.Module = nn.Sequential(
            nn.Unflatten(1, (1, 8, 8)),
            nn.Conv2d(1, spec.hidden[0], 3, padding=1),
            act(),
            nn.Conv2d(spec.hidden[0], spec.hidden[0], 3, padding=1),
            act(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(spec.hidden[0] * 16, n_out),
        )
    else:
        layers: list[nn.Module] = []
        width = n_in
        for h in spec.hidden:
            layers += [nn.Linear(width, h), act()]
            if spec.dropout:
                layers.append(nn.Dropout(spec.dropout))
            width = h
        net = nn.Sequential(*layers, nn.Linear(width, n_out))
    with torch.no_grad():
        for p in net.parameters():
            p.mul_(spec.init_scale)
    if spec.freeze:
        for p in list(net.parameters())[:-1]:
            p.requires_grad_(False)
    return net


def lr_factor(schedule: tuple, step: int) -> float:
    """Multiplier of the base learning rate at ``step`` for a schedule tuple."""
    name = schedule[0]
    if name == "warmup":
        return min(1.0, (step + 1) / schedule[1])
    if name == "step":
        return schedule[2] if step >= schedule[1] else 1.0
    if name == "cosine":
        return 0.5 * (1 + math.cos(math.pi * min(step / schedule[1], 1.0)))
    if name == "burst":
        at, length, factor = schedule[1:]
        return factor if at <= step < at + length else 1.0
    if name == "cyclic":  # triangular cycles between ``low`` and 1 (a CyclicLR set too wide)
        period, low = schedule[1:]
        position = (step % period) / period
        return low + (1.0 - low) * (1.0 - abs(2.0 * position - 1.0))
    if name == "ramp":
        at, growth = schedule[1:]
        return growth ** max(0, step - at)
    return 1.0


class ProbeModule(pl.LightningModule):
    """Trains one network and logs loss, grad norm (before clipping) and LR every step."""

    def __init__(self, spec: object, split: Split, spike_steps: tuple[int, ...], seed: int) -> None:
        super().__init__()
        self.spec, self.split, self.spike_steps = spec, split, set(spike_steps)
        self.seed = seed
        n_out = split.n_classes or 1
        self.net = build_net(spec, split.x_train.shape[1], n_out)
        self.loss_fn = nn.CrossEntropyLoss() if split.n_classes else nn.MSELoss()
        self.n_bad = 0

    def training_step(self, batch: list[torch.Tensor], batch_idx: int) -> torch.Tensor:
        x, y = batch
        if self.global_step in self.spike_steps:  # a corrupted batch (rescaled inputs)
            x = x * self.spec.spike_scale
        loss = self.loss_fn(self.net(x), y)
        self.step_values = {"train_loss": loss.detach()}
        self.n_bad = 0 if torch.isfinite(loss) else self.n_bad + 1
        if self.n_bad >= 20:  # a real user would stop a run that has been NaN this long
            self.trainer.should_stop = True
        return loss

    def on_before_optimizer_step(self, optimizer: torch.optim.Optimizer) -> None:
        grads = [p.grad for p in self.parameters() if p.grad is not None]
        values = dict(self.step_values)
        values["grad_2.0_norm_total"] = torch.nn.utils.get_total_norm(grads, norm_type=2.0)
        weights = [(n, p) for n, p in self.named_parameters() if n.endswith("weight")]
        for name, param in (weights[0], weights[-1]):  # first and last layer
            if param.grad is not None:
                values[f"grad_2.0_norm/{name}"] = param.grad.norm()
        lr = optimizer.param_groups[0]["lr"]
        values[f"lr-{type(optimizer).__name__}"] = torch.tensor(float(lr))
        self.log_dict(values, on_step=True, on_epoch=False)

    def validation_step(self, batch: list[torch.Tensor], batch_idx: int) -> None:
        x, y = batch
        out = self.net(x)
        self.log("val_loss", self.loss_fn(out, y), on_epoch=True)
        if self.split.n_classes:
            self.log("val_acc", (out.argmax(1) == y).float().mean(), on_epoch=True)

    def configure_optimizers(self) -> dict:
        params = [p for p in self.parameters() if p.requires_grad]
        spec = self.spec
        if spec.optimizer == "adam":
            opt = torch.optim.Adam(params, lr=spec.lr, weight_decay=spec.weight_decay)
        else:
            opt = torch.optim.SGD(
                params, lr=spec.lr, momentum=spec.momentum, weight_decay=spec.weight_decay
            )
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: lr_factor(spec.schedule, s))
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}

    def train_dataloader(self) -> DataLoader:
        data = TensorDataset(self.split.x_train, self.split.y_train)
        size = self.spec.batch_size or len(data)
        gen = torch.Generator().manual_seed(self.seed)
        batches = BatchSampler(RandomSampler(data, generator=gen), size, drop_last=False)
        return DataLoader(data, sampler=batches, batch_size=None)  # whole-batch indexing

    def val_dataloader(self) -> DataLoader:
        data = TensorDataset(self.split.x_val, self.split.y_val)
        return DataLoader(data, batch_size=len(data))
