"""Tests of the Ultralytics results.csv loader (dynamics_stats.io.yolo_csv)."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
import yaml

from dynamics_stats.core.errors import LoadError
from dynamics_stats.io import LOADERS, load_run
from dynamics_stats.io.yolo_csv import SPEC, role_hints

DETECT_KEYS = [
    "train/box_loss",
    "train/cls_loss",
    "train/dfl_loss",
    "metrics/precision(B)",
    "metrics/recall(B)",
    "metrics/mAP50(B)",
    "metrics/mAP50-95(B)",
    "val/box_loss",
    "val/cls_loss",
    "val/dfl_loss",
    "lr/pg0",
    "lr/pg1",
    "lr/pg2",
]
V5_KEYS = [
    "train/box_loss",
    "train/obj_loss",
    "train/cls_loss",
    "metrics/precision",
    "metrics/recall",
    "metrics/mAP_0.5",
    "metrics/mAP_0.5:0.95",
    "val/box_loss",
    "val/obj_loss",
    "val/cls_loss",
    "x/lr0",
    "x/lr1",
    "x/lr2",
]


def save_metrics_v8_0(path: Path, epoch: int, metrics: dict[str, float]) -> None:
    """ultralytics 8.0 BaseTrainer.save_metrics: 23-wide padded header and values."""
    keys, vals = list(metrics.keys()), list(metrics.values())
    n = len(metrics) + 1
    s = "" if path.exists() else (("%23s," * n % tuple(["epoch", *keys])).rstrip(",") + "\n")
    with path.open("a") as f:
        f.write(s + ("%23.5g," * n % tuple([epoch + 1, *vals])).rstrip(",") + "\n")


def save_metrics_v8_3(path: Path, epoch: int, seconds: float, metrics: dict[str, float]) -> None:
    """ultralytics 8.3 BaseTrainer.save_metrics: adds the elapsed ``time`` column."""
    keys, vals = list(metrics.keys()), list(metrics.values())
    n = len(metrics) + 2
    s = "" if path.exists() else (("%s," * n % tuple(["epoch", "time", *keys])).rstrip(",") + "\n")
    with path.open("a", encoding="utf-8") as f:
        f.write(s + ("%.6g," * n % tuple([epoch + 1, seconds, *vals])).rstrip(",") + "\n")


def save_metrics_v5(path: Path, epoch: int, metrics: dict[str, float]) -> None:
    """YOLOv5 Loggers.on_fit_epoch_end: 20-wide padding, 0-based epoch."""
    keys, vals = list(metrics.keys()), list(metrics.values())
    n = len(metrics) + 1
    s = "" if path.exists() else (("%20s," * n % tuple(["epoch", *keys])).rstrip(",") + "\n")
    with path.open("a") as f:
        f.write(s + ("%20.5g," * n % tuple([epoch, *vals])).rstrip(",") + "\n")


def detect_metrics(epoch: int, keys: list[str] = DETECT_KEYS, val: float | None = None):
    values = {}
    for i, key in enumerate(keys):
        if key.startswith(("lr/", "x/")):
            values[key] = 0.01 / (epoch + 1)
        elif key.startswith("val/") and val is not None:
            values[key] = val
        else:
            values[key] = round((i + 1) * 0.1 + 1.0 / (epoch + 1), 4)
    return values


def series(run, metric):
    rec = run.records[run.records["metric"] == metric]
    return rec["step"].tolist(), rec["value"].tolist()


def test_padded_v8_results_are_read_with_totals(tmp_path):
    path = tmp_path / "results.csv"
    for epoch in range(3):
        save_metrics_v8_0(path, epoch, detect_metrics(epoch))
    assert path.read_text().startswith("                  epoch,         train/box_loss")
    run = load_run(path)
    assert run.format == "yolo_csv" and run.step_unit == "epoch"
    steps, box = series(run, "train/box_loss")
    assert steps == [1.0, 2.0, 3.0]
    assert box == pytest.approx([1.1, 0.6, 0.4333], abs=1e-4)
    _, total = series(run, "train/loss")
    comps = [series(run, f"train/{c}_loss")[1] for c in ("box", "cls", "dfl")]
    assert total == pytest.approx([sum(c[i] for c in comps) for i in range(3)])
    assert series(run, "val/loss")[0] == [1.0, 2.0, 3.0]
    assert [n.code for n in run.notes] == ["derived_total_loss", "derived_total_loss"]
    assert run.notes[0].metric == "train/loss" and run.notes[0].level == "info"
    assert run.role_hints["train/loss"] == "train_loss"
    assert run.role_hints["val/loss"] == "val_loss"
    assert run.role_hints["train/box_loss"] == "other"
    assert run.role_hints["metrics/mAP50(B)"] == "val_metric"
    assert run.role_hints["lr/pg1"] == "learning_rate"
    assert run.records["wall_time"].isna().all()


def test_v8_3_time_column_is_wall_time_and_args_are_hparams(tmp_path):
    path = tmp_path / "results.csv"
    for epoch in range(2):
        save_metrics_v8_3(path, epoch, 10.5 * (epoch + 1), detect_metrics(epoch))
    args = {
        "task": "detect",
        "epochs": 2,
        "lr0": 0.01,
        "device": "0",
        "time": None,
        "amp": True,
        "classes": [0, 1],
    }
    (tmp_path / "args.yaml").write_text(yaml.safe_dump(args, sort_keys=False, allow_unicode=True))
    run = load_run(tmp_path)
    assert run.format == "yolo_csv"
    assert "time" not in run.metric_names
    rec = run.records[run.records["metric"] == "lr/pg0"]
    assert rec["wall_time"].tolist() == [10.5, 21.0]
    assert dict(run.hparams) == {
        "task": "detect",
        "epochs": 2,
        "lr0": 0.01,
        "device": "0",
        "time": None,
        "amp": True,
    }
    assert run.files == (str(path), str(tmp_path / "args.yaml"))


def test_unsafe_args_yaml_gives_a_warning_not_an_error(tmp_path):
    path = tmp_path / "results.csv"
    save_metrics_v8_3(path, 0, 1.0, detect_metrics(0))
    (tmp_path / "args.yaml").write_text("model: !!python/object/apply:os.system ['true']\n")
    run = load_run(path)
    assert run.hparams == {}
    assert any(n.code == "hparams_unreadable" and n.level == "warning" for n in run.notes)


def test_yolov5_results(tmp_path):
    path = tmp_path / "results.csv"
    for epoch in range(2):
        save_metrics_v5(path, epoch, detect_metrics(epoch, V5_KEYS))
    run = load_run(path)
    assert run.format == "yolo_csv"
    assert series(run, "train/obj_loss")[0] == [0.0, 1.0]
    assert "train/loss" in run.metric_names
    assert run.role_hints["x/lr1"] == "learning_rate"
    assert run.role_hints["x/lr0"] == "other"
    assert run.role_hints["metrics/mAP_0.5"] == "val_metric"


def test_classify_results_keep_their_own_total(tmp_path):
    path = tmp_path / "results.csv"
    keys = [
        "train/loss",
        "metrics/accuracy_top1",
        "metrics/accuracy_top5",
        "val/loss",
        "lr/pg0",
        "lr/pg1",
        "lr/pg2",
    ]
    save_metrics_v8_3(
        path, 0, 3.0, dict(zip(keys, [2.3, 0.1, 0.5, 2.2, 1e-3, 1e-3, 1e-3], strict=True))
    )
    run = load_run(path)
    assert run.notes == ()
    assert series(run, "train/loss")[1] == [2.3]
    assert run.role_hints["train/loss"] == "train_loss"


def test_nan_validation_losses_are_kept(tmp_path):
    path = tmp_path / "results.csv"
    for epoch in range(3):
        save_metrics_v8_0(path, epoch, detect_metrics(epoch, val=float("nan")))
    run = load_run(path)
    _, val_box = series(run, "val/box_loss")
    _, val_total = series(run, "val/loss")
    assert len(val_box) == 3 and all(math.isnan(v) for v in val_box)
    assert len(val_total) == 3 and all(math.isnan(v) for v in val_total)
    assert series(run, "metrics/mAP50(B)")[1] == pytest.approx([1.6, 1.1, 0.9333], abs=1e-4)


def test_total_skips_rows_with_missing_or_text_components(tmp_path):
    path = tmp_path / "results.csv"
    path.write_text(
        "epoch,train/box_loss,train/cls_loss,metrics/mAP50(B)\n"
        "1,1.0,2.0,0.1\n"
        "2,,2.0,0.2\n"
        "3,oops,1.0,0.3\n"
        "4,0.5,0.5,0.4\n"
    )
    run = load_run(path)
    assert series(run, "train/loss") == ([1.0, 4.0], [3.0, 1.0])
    assert series(run, "train/box_loss")[1] == [1.0, "oops", 0.5]
    assert run.notes[0].n_affected == 2


def test_truncated_last_line_is_skipped(tmp_path):
    path = tmp_path / "results.csv"
    for epoch in range(2):
        save_metrics_v8_3(path, epoch, 1.0, detect_metrics(epoch))
    path.write_text(path.read_text() + "3,2.0,1.1")
    run = load_run(path)
    assert series(run, "train/loss")[0] == [1.0, 2.0]
    assert any(n.code == "truncated_line" and n.lines == (4,) for n in run.notes)


def test_empty_and_header_only_files_raise(tmp_path):
    path = tmp_path / "results.csv"
    path.write_text("")
    with pytest.raises(LoadError, match=r"results\.csv' is empty"):
        SPEC.load(path, None)
    path.write_text("epoch,train/box_loss,metrics/mAP50(B),lr/pg0\n")
    with pytest.raises(LoadError, match="no data rows"):
        SPEC.load(path, None)


def test_role_hints_single_lr_group():
    assert role_hints(["lr/pg0", "train/box_loss"]) == {"lr/pg0": "learning_rate"}


@pytest.mark.parametrize(
    "text",
    [
        "epoch,loss,val_loss\n0,1.0,1.1\n",
        "step,train/loss,eval/loss\n0,1.0,\n",
        "lr-Adam,step,train_loss,epoch\n,49,0.5,0\n",
    ],
)
def test_sniff_refuses_other_tables(tmp_path, text):
    path = tmp_path / "results.csv"
    path.write_text(text)
    assert SPEC.sniff(path) is False
    assert SPEC.sniff(tmp_path) is False


def test_registered():
    assert LOADERS["yolo_csv"] is SPEC


def test_every_public_yolo_run_loads(public_runs):
    index = pd.read_csv(public_runs / "index.csv")
    runs = [public_runs / r for r in index.loc[index["format"] == "yolo_results_csv", "run_id"]]
    assert len(runs) == 5
    for run_dir in runs:
        run = load_run(run_dir)
        assert run.format == "yolo_csv", run_dir.name
        assert run.step_unit == "epoch"
        assert run.role_hints["train/loss"] == "train_loss"
        _, total = series(run, "train/loss")
        assert len(total) > 0 and all(math.isfinite(v) for v in total)
        assert run.hparams["task"] == "detect"
    nan_run = load_run(public_runs / "yolo_courtvision")
    _, val_box = series(nan_run, "val/box_loss")
    assert len(val_box) == 225 and all(math.isnan(v) for v in val_box)
