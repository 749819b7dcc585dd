"""Train the real labelled corpus: small models on scikit-learn's bundled datasets, on CPU.

    python calibration/real/make_runs.py [--only GROUP_PREFIX] [--label-only]

Each run of each generating configuration (``_specs.py``) is trained with PyTorch Lightning
(CSVLogger, no checkpoints, one thread) and written to ``runs/<run_id>/metrics.csv`` (floats
with 6 significant digits) and ``hparams.yaml``. Existing runs are skipped, so the script is
resumable. Then every run is labelled by the explicit numeric rules of ``label_rules.py``
(independent of the package's detectors) and ``labels.csv`` is written.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
RUNS = HERE / "runs"
sys.path.insert(0, str(HERE))

from _specs import Spec, all_specs  # noqa: E402
from label_rules import write_labels  # noqa: E402


def run_id(spec: Spec, seed: int) -> str:
    """The folder name of one run."""
    return f"{spec.group}_s{seed}"


def _hparams(spec: Spec, seed: int) -> dict[str, object]:
    """What a user would have in hparams.yaml (no labels, no injected steps)."""
    return {
        "dataset": spec.dataset,
        "model": spec.model,
        "hidden": list(spec.hidden),
        "activation": spec.activation,
        "init_scale": spec.init_scale,
        "optimizer": spec.optimizer,
        "lr": spec.lr,
        "momentum": spec.momentum,
        "weight_decay": spec.weight_decay,
        "dropout": spec.dropout,
        "batch_size": spec.batch_size,
        "n_train": spec.n_train,
        "max_steps": spec.max_steps,
        "lr_schedule": spec.schedule[0],
        "seed": seed,
    }


def _eval_options(spec: Spec, n_train: int) -> dict[str, object]:
    """About 40 validation passes per run, at epoch ends when epochs are short."""
    per_epoch = -(-n_train // (spec.batch_size or n_train))
    every = max(5, spec.max_steps // 40)
    if per_epoch <= every:
        return {"check_val_every_n_epoch": max(1, round(every / per_epoch))}
    return {"val_check_interval": every}


def train_one(spec: Spec, seed: int) -> None:
    """Train one run and write its two files (skipped when they exist)."""
    import lightning.pytorch as pl
    import pandas as pd
    import torch
    import yaml
    from _models import ProbeModule, load_split
    from lightning.pytorch.loggers import CSVLogger

    out = RUNS / run_id(spec, seed)
    if (out / "metrics.csv").is_file():
        return
    pl.seed_everything(seed, verbose=False)
    split = load_split(spec.dataset, n_train=spec.n_train, seed=seed)
    module = ProbeModule(spec, split, spec.spike_steps(seed), seed)
    with tempfile.TemporaryDirectory() as tmp:
        trainer = pl.Trainer(
            max_steps=spec.max_steps,
            max_epochs=-1,
            accelerator="cpu",
            logger=CSVLogger(tmp, name="", version=""),
            log_every_n_steps=spec.log_every,
            enable_progress_bar=False,
            enable_model_summary=False,
            enable_checkpointing=False,
            num_sanity_val_steps=0,
            **_eval_options(spec, len(split.x_train)),
        )
        trainer.fit(module)
        frame = pd.read_csv(Path(tmp) / "metrics.csv", dtype=str, keep_default_na=False)
    for column in frame.columns.difference(["epoch", "step"]):  # keep "nan"/"inf" as written
        frame[column] = [f"{float(v):.6g}" if v else "" for v in frame[column]]
    out.mkdir(parents=True, exist_ok=True)
    frame.to_csv(out / "metrics.csv", index=False)
    (out / "hparams.yaml").write_text(yaml.safe_dump(_hparams(spec, seed), sort_keys=False))
    del torch


def main(argv: list[str] | None = None) -> None:
    """Generate missing runs, then (re)write labels.csv."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="generate only groups with this prefix")
    parser.add_argument("--label-only", action="store_true")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")
    logging.getLogger("lightning").setLevel(logging.ERROR)
    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)
    specs = [s for s in all_specs() if s.group.startswith(args.only)]
    if not args.label_only:
        for spec in specs:
            for seed in spec.seeds:
                start = time.time()
                try:
                    train_one(spec, seed)
                except Exception as err:  # noqa: BLE001 - log, drop the run, continue
                    shutil.rmtree(RUNS / run_id(spec, seed), ignore_errors=True)
                    print(f"FAILED {run_id(spec, seed)}: {err!r}", flush=True)
                    continue
                print(f"{run_id(spec, seed)} {time.time() - start:.1f}s", flush=True)
    write_labels(all_specs(), RUNS, HERE / "labels.csv", run_id=run_id)


if __name__ == "__main__":
    main()
