"""Tests for the llm.c loader (``main.log`` and ``train_gpt2cu`` console output)."""

# printf-style formats on purpose: they are the writers' own C/Python format strings.
# ruff: noqa: UP031

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest

from dynamics_stats.core.errors import LoadError
from dynamics_stats.io import LoadOptions, load_run
from dynamics_stats.io.llmc import SPEC

NAN = float("nan")
# (step, train loss, lr, grad norm) as train_gpt2.cu computes them; step 2 diverged.
TRAIN = [(0, 11.0116, 1e-06, 14.96), (1, 10.9586, 2e-06, 15.18), (2, NAN, 3e-06, NAN)]


def _main_log(path: Path) -> Path:
    """``llmc/logger.h``: ``s:%d tel:%.4f``, ``s:%d trl:%.4f lr:%.6f norm:%.2f``, ``eval``."""
    lines = ["s:0 tel:%.4f\n" % 11.0095]
    lines += ["s:%d trl:%.4f lr:%.6f norm:%.2f\n" % row for row in TRAIN]
    lines += ["s:3 tel:%.4f\n" % 6.1565, "s:3 eval:%.4f\n" % 0.2437]
    path.write_text("".join(lines))
    return path


HEADER = (
    "+-----------------------+----------------------------------------------------+\n"
    "| Parameter             | Value                                              |\n"
    "+-----------------------+----------------------------------------------------+\n"
    "| train data pattern    | %-50s |\n"
    % "dev/data/fineweb10B/fineweb_train_*.bin"
    + "| max_steps             | %-50d |\n" % -1
    + "| learning rate (LR)    | %-50e |\n" % 6e-4
    + "| precision             | %-50s |\n" % "BF16"
    + "+-----------------------+----------------------------------------------------+\n"
    "allocated 237 MiB for model parameters\n"
)


def _step_line(step: int, loss: float, norm: float, lr: float, *, old: bool = False) -> str:
    if old:  # llm.c before the z-score columns (spring 2024)
        return "step %4d/%d: train loss %f norm %.4f lr %.2e (%f ms, %.0f tok/s)\n" % (
            step, 74, loss, norm, lr, 312.5, 167772.0
        )  # fmt: skip
    return (
        "step %4d/%d | loss %7.6f (%+.2fz)| norm %6.4f (%+.2fz)| lr %.2e | %.2f ms "
        "| %.1f%% bf16 MFU | %.0f tok/s\n" % (step, 74, loss, NAN, norm, -0.9, lr, 4230.95, 31.9,
                                               123917.0)
    )  # fmt: skip


def _console_log(path: Path, *, old: bool = False) -> Path:
    """The console: settings table, ``val loss %f`` before the step it follows, HellaSwag."""
    text = HEADER + "val loss %f\n" % 11.007921
    for step, loss, lr, norm in TRAIN:
        text += _step_line(step + 1, loss, norm, lr, old=old)
    text += "val loss %f\n" % 6.202221
    text += "evaluating HellaSwag: 0/1256\revaluating HellaSwag: 10/1256\r"
    text += "HellaSwag: %d/%d = %f\n" % (2493, 10042, 0.248257)
    text += _step_line(4, 6.1, 0.75, 4e-06, old=old)
    path.write_text(text)
    return path


def _values(run, metric: str) -> list[tuple[float, object]]:
    rows = run.records[run.records["metric"] == metric]
    return list(zip(rows["step"].tolist(), rows["value"].tolist(), strict=True))


def _same(got: list[tuple[float, object]], expected: list[tuple[float, float]]) -> bool:
    return len(got) == len(expected) and all(
        gs == es and (gv == ev or (math.isnan(gv) and math.isnan(ev)))
        for (gs, gv), (es, ev) in zip(got, expected, strict=True)
    )


def test_main_log(tmp_path: Path) -> None:
    run = SPEC.load(_main_log(tmp_path / "main.log"), LoadOptions())
    assert run.format == "llmc"
    assert run.step_unit == "step"
    assert _same(_values(run, "trl"), [(s, loss) for s, loss, _, _ in TRAIN])
    assert _same(_values(run, "norm"), [(s, n) for s, _, _, n in TRAIN])
    assert _values(run, "lr") == [(0, 1e-06), (1, 2e-06), (2, 3e-06)]
    assert _values(run, "tel") == [(0, 11.0095), (3, 6.1565)]
    assert _values(run, "eval") == [(3, 0.2437)]
    assert run.records.loc[run.records["metric"] == "tel", "line"].tolist() == [1, 5]
    assert run.role_hints == {
        "trl": "train_loss",
        "tel": "val_loss",
        "norm": "grad_norm",
        "lr": "learning_rate",
        "eval": "val_metric",
    }


@pytest.mark.parametrize("old", [False, True])
def test_console_output(tmp_path: Path, old: bool) -> None:
    run = SPEC.load(_console_log(tmp_path / "gpt2_train.log", old=old), LoadOptions())
    assert _same(_values(run, "loss"), [(1, 11.0116), (2, 10.9586), (3, NAN), (4, 6.1)])
    assert _same(_values(run, "norm"), [(1, 14.96), (2, 15.18), (3, NAN), (4, 0.75)])
    assert _values(run, "lr") == [(1, 1e-06), (2, 2e-06), (3, 3e-06), (4, 4e-06)]
    # val loss lines carry no step: they belong to the last step printed before them
    assert _values(run, "val_loss") == [(0, 11.007921), (3, 6.202221)]
    assert _values(run, "hellaswag") == [(3, 0.248257)]
    assert _values(run, "step_ms")[0] == (1, 312.5 if old else 4230.95)
    assert _values(run, "tok_per_s")[0] == (1, 167772.0 if old else 123917.0)
    assert ("mfu" in run.metric_names) is not old
    lines = run.records.groupby("metric")["line"].first()
    assert lines["val_loss"] == 10 and lines["loss"] == 11 and lines["hellaswag"] == 15
    assert run.role_hints["loss"] == "train_loss"
    assert run.role_hints["val_loss"] == "val_loss"
    assert run.role_hints["norm"] == "grad_norm"
    assert run.role_hints["lr"] == "learning_rate"
    assert run.hparams["max_steps"] == -1
    assert run.hparams["learning rate (LR)"] == 6e-4
    assert run.hparams["train data pattern"] == "dev/data/fineweb10B/fineweb_train_*.bin"
    assert run.hparams["total_steps"] == 74
    assert "Parameter" not in run.hparams


def test_step_line_cut_by_the_scheduler_keeps_its_values(tmp_path: Path) -> None:
    path = _console_log(tmp_path / "slurm.log")
    path.write_text(
        path.read_text()
        + "step    5/74 | loss 6.000000 (-1.20z)| norm 0.7000 (-0.23z)| lr 5.00e-06 | 4368."
        + "slurmstepd: error: *** JOB 11679010 ON g002 CANCELLED AT 2024-10-10T18:59:58 ***\n"
    )
    run = SPEC.load(path, LoadOptions())
    assert _values(run, "loss")[-1] == (5, 6.0)
    assert _values(run, "lr")[-1] == (5, 5e-06)
    assert _values(run, "step_ms")[-1][0] == 4


def test_sniff(tmp_path: Path) -> None:
    assert SPEC.sniff(_main_log(tmp_path / "main.log"))
    assert SPEC.sniff(_console_log(tmp_path / "gpt2.log"))
    header_only = tmp_path / "header.log"
    header_only.write_text(HEADER)
    assert SPEC.sniff(header_only)
    other = tmp_path / "train.log"
    other.write_text("Epoch 1 step 3 loss: 0.5\n")
    assert not SPEC.sniff(other)
    assert not SPEC.sniff(tmp_path)


def test_load_run_detects_the_format(tmp_path: Path) -> None:
    assert load_run(_main_log(tmp_path / "main.log")).format == "llmc"
    assert load_run(_console_log(tmp_path / "out.log")).format == "llmc"


def test_header_without_steps_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "gpt2.log"
    path.write_text(HEADER)
    with pytest.raises(LoadError, match="no llm.c step line"):
        SPEC.load(path, LoadOptions())


def test_empty_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "main.log"
    path.write_text("")
    with pytest.raises(LoadError, match=r"main\.log' is empty"):
        SPEC.load(path, LoadOptions())


def test_public_runs_load_through_detection(public_runs: Path) -> None:
    with (public_runs / "index.csv").open(newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["format"].startswith("llmc_")]
    assert len(rows) == 3
    for row in rows:
        run = load_run(public_runs / row["run_id"])
        assert run.format == "llmc", row["run_id"]
        counts = run.records["metric"].value_counts()
        if row["format"] == "llmc_mainlog":
            assert counts["trl"] == int(row["n_train_loss"])
            assert counts["tel"] == int(row["n_eval_loss"])
        else:  # one console line is garbled after "norm": its loss and norm are still read
            assert counts["loss"] in (int(row["n_train_loss"]), int(row["n_train_loss"]) + 1)
            assert counts["val_loss"] == int(row["n_eval_loss"])
            assert counts["lr"] == int(row["n_lr"])
            assert run.hparams["num_parameters"] == 124475904
