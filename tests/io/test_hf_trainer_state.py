"""Tests for the Hugging Face ``trainer_state.json`` loader."""

from __future__ import annotations

import csv
import dataclasses
import json
import math
from pathlib import Path

import pytest

from dynamics_stats.core.errors import LoadError
from dynamics_stats.io import LoadOptions, load_run
from dynamics_stats.io.hf_trainer_state import SPEC, find_trainer_state

# log_history as the Trainer builds it: training rows from `Trainer._maybe_log_save_evaluate`,
# evaluation rows from `evaluate()` (metric_key_prefix "eval") and the closing row of `train()`.
LOG_HISTORY = [
    {"epoch": 0.25, "grad_norm": 12.5, "learning_rate": 4.5e-05, "loss": 2.3456, "step": 10},
    {"epoch": 0.5, "grad_norm": 8.25, "learning_rate": 4.0e-05, "loss": 1.9876, "step": 20},
    {
        "epoch": 0.5,
        "eval_accuracy": 0.61,
        "eval_loss": 1.8765,
        "eval_runtime": 3.2101,
        "eval_samples_per_second": 155.7,
        "eval_steps_per_second": 19.47,
        "step": 20,
    },
    {"epoch": 0.75, "grad_norm": math.nan, "learning_rate": 3.5e-05, "loss": 1.7654, "step": 30},
    {"epoch": 1.0, "grad_norm": 6.5, "learning_rate": 3.0e-05, "loss": 1.6543, "step": 40},
    {
        "epoch": 1.0,
        "step": 40,
        "total_flos": 1.2345e15,
        "train_loss": 1.938225,
        "train_runtime": 61.234,
        "train_samples_per_second": 52.26,
        "train_steps_per_second": 0.653,
    },
]
STATE_FIELDS = {
    "epoch": 1.0,
    "global_step": 40,
    "max_steps": 40,
    "num_train_epochs": 1,
    "logging_steps": 10,
    "eval_steps": 20,
    "save_steps": 20,
    "train_batch_size": 8,
}


def write_state(path: Path, log_history: list[dict[str, object]], **fields: object) -> Path:
    """Write a trainer_state.json with `transformers.TrainerState.save_to_json`.

    Without transformers, write the same bytes the way `save_to_json` does.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    values = {**STATE_FIELDS, **fields, "log_history": log_history}
    try:
        from transformers import TrainerState
    except ImportError:
        _write_like_save_to_json(path, values)
    else:
        TrainerState(**values).save_to_json(str(path))
    return path


def _write_like_save_to_json(path: Path, values: dict[str, object]) -> None:
    defaults = {
        "best_global_step": None,
        "best_metric": None,
        "best_model_checkpoint": None,
        "is_hyper_param_search": False,
        "is_local_process_zero": True,
        "is_world_process_zero": True,
        "num_input_tokens_seen": 0,
        "stateful_callbacks": {},
        "total_flos": 0,
        "trial_name": None,
        "trial_params": None,
    }
    text = json.dumps({**defaults, **values}, indent=2, sort_keys=True) + "\n"
    path.write_text(text, encoding="utf-8")


def _values(run, metric: str) -> list[tuple[float, object]]:
    rows = run.records[run.records["metric"] == metric]
    return list(zip(rows["step"].tolist(), rows["value"].tolist(), strict=True))


def test_real_trainer_state_writes_what_the_fallback_writes(tmp_path: Path) -> None:
    transformers = pytest.importorskip("transformers")
    real = tmp_path / "real.json"
    transformers.TrainerState(**STATE_FIELDS, log_history=LOG_HISTORY).save_to_json(str(real))
    state = transformers.TrainerState(**STATE_FIELDS, log_history=LOG_HISTORY)
    copy = tmp_path / "copy.json"
    _write_like_save_to_json(copy, dataclasses.asdict(state))
    assert real.read_text() == copy.read_text()
    assert '"grad_norm": NaN' in real.read_text()


def test_reads_training_and_eval_rows(tmp_path: Path) -> None:
    path = write_state(tmp_path / "out" / "trainer_state.json", LOG_HISTORY)
    run = SPEC.load(path, LoadOptions())
    assert run.format == "hf_trainer_state"
    assert run.step_unit == "step"
    assert _values(run, "loss") == [(10, 2.3456), (20, 1.9876), (30, 1.7654), (40, 1.6543)]
    assert _values(run, "eval_loss") == [(20, 1.8765)]
    assert _values(run, "eval_accuracy") == [(20, 0.61)]
    grad = _values(run, "grad_norm")
    assert [s for s, _ in grad] == [10, 20, 30, 40]
    assert math.isnan(grad[2][1])  # the NaN is evidence, it is kept
    lr = run.records[run.records["metric"] == "learning_rate"]
    assert lr["epoch"].tolist() == [0.25, 0.5, 0.75, 1.0]
    assert run.files == (str(path),)


def test_line_is_where_each_entry_starts(tmp_path: Path) -> None:
    path = write_state(tmp_path / "trainer_state.json", LOG_HISTORY)
    lines = path.read_text().split("\n")
    entry_starts = [i for i, s in enumerate(lines, 1) if s == "    {"]
    run = SPEC.load(path, LoadOptions())
    loss_lines = run.records.loc[run.records["metric"] == "loss", "line"].tolist()
    assert loss_lines == [entry_starts[i] for i in (0, 1, 3, 4)]
    eval_line = run.records.loc[run.records["metric"] == "eval_loss", "line"].item()
    assert eval_line == entry_starts[2]
    assert '"eval_accuracy"' in lines[eval_line + 1]  # after '"epoch"' (sort_keys)


def test_summary_row_is_kept_apart_from_the_curves(tmp_path: Path) -> None:
    run = SPEC.load(write_state(tmp_path / "trainer_state.json", LOG_HISTORY), LoadOptions())
    names = set(run.metric_names)
    assert "train_loss" not in names and "train_runtime" not in names
    assert _values(run, "summary/train_loss") == [(40, 1.938225)]
    assert {"summary/train_runtime", "summary/total_flos"} <= names
    assert run.role_hints["summary/train_loss"] == "other"
    assert run.role_hints["summary/train_samples_per_second"] == "other"


def test_role_hints(tmp_path: Path) -> None:
    run = SPEC.load(write_state(tmp_path / "trainer_state.json", LOG_HISTORY), LoadOptions())
    hints = run.role_hints
    assert hints["loss"] == "train_loss"
    assert hints["eval_loss"] == "val_loss"
    assert hints["grad_norm"] == "grad_norm"
    assert hints["learning_rate"] == "learning_rate"
    assert hints["eval_runtime"] == "other"
    assert hints["eval_steps_per_second"] == "other"
    assert "eval_accuracy" not in hints  # left to name-based inference


def test_hparams_from_state_and_side_files(tmp_path: Path) -> None:
    out = tmp_path / "out"
    path = write_state(out / "trainer_state.json", LOG_HISTORY)
    (out / "training_args.json").write_text(
        json.dumps({"learning_rate": 5e-05, "per_device_train_batch_size": 8, "report_to": []})
    )
    (out / "config.json").write_text(
        json.dumps({"model_type": "gpt2", "n_layer": 2, "task_specific_params": {"x": {"y": 1}}})
    )
    run = SPEC.load(out, LoadOptions())
    assert run.hparams["max_steps"] == 40
    assert run.hparams["logging_steps"] == 10
    assert run.hparams["train_batch_size"] == 8
    assert "log_history" not in run.hparams
    assert run.hparams["training_args.learning_rate"] == 5e-05
    assert "training_args.report_to" not in run.hparams  # lists are not scalars
    assert run.hparams["config.n_layer"] == 2
    assert run.hparams["config.task_specific_params.x.y"] == 1
    assert run.files == (str(path), str(out / "training_args.json"), str(out / "config.json"))


def test_highest_checkpoint_is_read(tmp_path: Path) -> None:
    out = tmp_path / "out"
    for step in (5, 9, 10):
        rows = [r for r in LOG_HISTORY[:5] if r["step"] <= step * 4]
        write_state(out / f"checkpoint-{step}" / "trainer_state.json", rows, global_step=step * 4)
    (out / "checkpoint-11").mkdir()  # no state inside: not a candidate
    chosen, notes = find_trainer_state(out)
    assert chosen == out / "checkpoint-10" / "trainer_state.json"
    run = SPEC.load(out, LoadOptions())
    assert run.files[0] == str(chosen)
    assert [n.code for n in run.notes] == ["picked_checkpoint"]
    assert "checkpoint-10" in run.notes[0].message
    assert run.hparams["global_step"] == 40


def test_folder_state_wins_over_checkpoints(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_state(out / "checkpoint-20" / "trainer_state.json", LOG_HISTORY[:2])
    write_state(out / "trainer_state.json", LOG_HISTORY)
    run = SPEC.load(out, LoadOptions())
    assert run.files[0] == str(out / "trainer_state.json")
    assert run.notes == ()


def test_sniff(tmp_path: Path) -> None:
    out = tmp_path / "out"
    path = write_state(out / "checkpoint-3" / "trainer_state.json", LOG_HISTORY)
    renamed = tmp_path / "state_copy.json"
    renamed.write_text(path.read_text())
    other = tmp_path / "config.json"
    other.write_text(json.dumps({"n_layer": 2}))
    binary = tmp_path / "model.bin"
    binary.write_bytes(b"\x00\x01\x02")
    assert SPEC.sniff(path)
    assert SPEC.sniff(out)
    assert SPEC.sniff(out / "checkpoint-3")
    assert SPEC.sniff(renamed)
    assert not SPEC.sniff(other)
    assert not SPEC.sniff(binary)
    assert not SPEC.sniff(tmp_path / "missing")
    empty_dir = tmp_path / "empty"
    empty_dir.mkdir()
    assert not SPEC.sniff(empty_dir)


def test_load_run_detects_the_format(tmp_path: Path) -> None:
    write_state(tmp_path / "out" / "checkpoint-40" / "trainer_state.json", LOG_HISTORY)
    run = load_run(tmp_path / "out")
    assert run.format == "hf_trainer_state"
    assert len(_values(run, "loss")) == 4


def test_empty_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "trainer_state.json"
    path.write_text("")
    with pytest.raises(LoadError, match=r"trainer_state\.json' is empty"):
        SPEC.load(path, LoadOptions())


def test_cut_off_file_is_an_error(tmp_path: Path) -> None:
    path = write_state(tmp_path / "trainer_state.json", LOG_HISTORY)
    path.write_text(path.read_text()[:300])
    with pytest.raises(LoadError, match="not valid JSON.*checkpoint"):
        SPEC.load(path, LoadOptions())


def test_json_without_log_history_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "trainer_state.json"
    path.write_text(json.dumps({"global_step": 3}))
    with pytest.raises(LoadError, match="no 'log_history'"):
        SPEC.load(path, LoadOptions())


def test_empty_log_history_is_an_error(tmp_path: Path) -> None:
    path = write_state(tmp_path / "trainer_state.json", [])
    with pytest.raises(LoadError, match="empty log_history"):
        SPEC.load(path, LoadOptions())


def test_folder_without_state_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="no trainer_state.json in"):
        SPEC.load(tmp_path, LoadOptions())


def _public(public_runs: Path, fmt: str) -> list[dict[str, str]]:
    with (public_runs / "index.csv").open(newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["format"] == fmt]
    if not rows:
        pytest.skip(f"no public run of format {fmt!r} in {public_runs}")
    return rows


def test_public_runs_load_through_detection(public_runs: Path) -> None:
    rows = _public(public_runs, "hf_trainer_state")
    assert len(rows) == 36
    for row in rows:
        run = load_run(public_runs / row["run_id"])
        assert run.format == "hf_trainer_state", row["run_id"]
        counts = run.records["metric"].value_counts()
        assert counts.get("loss", 0) == int(row["n_train_loss"]), row["run_id"]
        assert counts.get("eval_loss", 0) == int(row["n_eval_loss"]), row["run_id"]
        assert counts.get("grad_norm", 0) == int(row["n_grad_norm"]), row["run_id"]
        assert (run.records["line"] > 0).all(), row["run_id"]
        assert not any(m == "train_loss" for m in run.metric_names), row["run_id"]
