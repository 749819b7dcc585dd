import pytest

from dynamics_stats.validate.roles import infer_role, is_total_loss, name_tokens

# Names as real loggers write them (Lightning, HF Trainer, Keras, slash styles, llm.c, DeiT,
# Ultralytics, LLaMA-Factory), with the role and direction they must get.
CASES = [
    ("train_loss", "train_loss", "min"),
    ("train_loss_step", "train_loss", "min"),
    ("train_loss_epoch", "train_loss", "min"),
    ("val_loss", "val_loss", "min"),
    ("val_acc", "val_metric", "max"),
    ("lr-Adam", "learning_rate", "none"),
    ("lr-SGD/pg1", "learning_rate", "none"),
    ("grad_2.0_norm_total", "grad_norm", "none"),
    ("grad_2.0_norm/layer1.weight", "layer_grad_norm", "none"),
    ("loss", "train_loss", "min"),
    ("eval_loss", "val_loss", "min"),
    ("eval_accuracy", "val_metric", "max"),
    ("eval_wer", "val_metric", "min"),
    ("grad_norm", "grad_norm", "none"),
    ("learning_rate", "learning_rate", "none"),
    ("accuracy", "train_metric", "max"),
    ("val_accuracy", "val_metric", "max"),
    ("lr", "learning_rate", "none"),
    ("train/loss", "train_loss", "min"),
    ("val/loss", "val_loss", "min"),
    ("valid/acc", "val_metric", "max"),
    ("validation/loss", "val_loss", "min"),
    ("eval/bleu", "val_metric", "max"),
    ("ValLoss", "val_loss", "min"),
    ("test_loss", "val_loss", "min"),
    ("test_acc1", "val_metric", "max"),
    ("train_lr", "learning_rate", "none"),
    ("perf/val_loss", "val_loss", "min"),
    ("lr/pg0", "learning_rate", "none"),
    ("learning_rate/group_0", "learning_rate", "none"),
    ("train/grad_norm_before_clip", "grad_norm", "none"),
    ("train/grad_norm_after_clip", "grad_norm_clipped", "none"),
    ("max_grad_norm", "clip_threshold", "none"),
    ("eval_runtime", "other", "none"),
    ("eval_samples_per_second", "other", "none"),
    ("lr-Adam-momentum", "other", "none"),
    ("metrics/mAP50(B)", "train_metric", "max"),
]


@pytest.mark.parametrize(("name", "role", "direction"), CASES)
def test_infer_role_on_real_logger_names(name, role, direction):
    assert infer_role(name) == (role, direction)


def test_name_tokens_splits_camel_case_and_separators():
    assert name_tokens("ValLoss") == ("val", "loss")
    assert name_tokens("train/loss_step") == ("train", "loss", "step")


@pytest.mark.parametrize(
    ("name", "total"),
    [
        ("loss", True),
        ("train_loss_step", True),
        ("eval_loss", True),
        ("train/box_loss", False),
        ("eval_g0_loss", False),
        ("train/running_loss", False),
    ],
)
def test_is_total_loss_separates_overall_from_components(name, total):
    assert is_total_loss(name) is total
