"""A two-process CPU DDP Hugging Face Trainer run with HFMonitor (for test_distributed.py).

Usage: python -m torch.distributed.run --nproc_per_node 2 _hf_ddp_run.py OUT_DIR LR
{watch,stop}. Each process writes ``rank<N>.json`` into OUT_DIR with what its monitor saw.
"""

from __future__ import annotations

import logging
import sys
import warnings
from pathlib import Path

import torch
from _distributed import write_rank_record
from _hf_digits import DigitsMLP, digits, training_arguments
from transformers import Trainer

from dynamics_stats.callbacks import HFMonitor, MonitorConfig

MAX_STEPS = 200
STOP_AT = 0.5  # as in test_hf.py


def main() -> None:
    out, lr, mode = Path(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
    warnings.filterwarnings("ignore")
    logging.getLogger("transformers").setLevel(logging.ERROR)
    torch.set_num_threads(1)
    torch.manual_seed(0)
    args = training_arguments(str(out), lr, MAX_STEPS, ddp_backend="gloo")
    config = MonitorConfig(
        analysis_in_background=False, analysis_every_n_steps=50, max_analysis_time_frac=None
    )
    monitor = HFMonitor(config, stop_on_divergence=STOP_AT if mode == "stop" else None)
    trainer = Trainer(model=DigitsMLP(), args=args, train_dataset=digits(), callbacks=[monitor])
    trainer.train()
    write_rank_record(out, args.process_index, trainer.state.global_step, monitor)


if __name__ == "__main__":
    main()
