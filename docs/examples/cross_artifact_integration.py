"""Cross-artifact integration agent: correlate training findings with data-quality issues.

It reads two JSON documents and nothing else:

- a saved ``AgentResult`` of dynamics_stats (``result.to_json()``, schema
  ``agent_result.v1.json``), and
- the output of a data-quality agent, here assumed to look like
  ``{"issues": [{"kind": "label_noise", "severity": "warning", "affected_frac": 0.08}, ...]}``.

A training problem and a data problem that usually go together become one *joint
hypothesis*, with the training finding's calibrated probability, the evidence ids on both
sides and a next step. Run it as a script::

    python docs/examples/cross_artifact_integration.py result.json data_quality.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

# (training kind, data-quality kind) -> what the pair suggests and what to check next.
LINKS = {
    ("overfitting", "small_dataset"): "the model memorises a small training set",
    ("overfitting", "duplicate_samples"): "duplicates inflate the effective epochs",
    ("overfitting", "train_val_distribution_shift"): "validation differs from training data",
    ("loss_spikes", "corrupt_samples"): "the loss spikes may be bad batches",
    ("loss_spikes", "outliers"): "the loss spikes may be outlier batches",
    ("exploding_gradients", "outliers"): "extreme inputs may blow up the gradients",
    ("stalled", "label_noise"): "noisy labels may cap what the model can learn",
    ("stalled", "unnormalised_features"): "unscaled inputs may block optimisation",
    ("oscillation", "class_imbalance"): "imbalanced batches may make the loss swing",
}
NEXT_STEP = {
    "small_dataset": "collect or augment data before tuning regularisation",
    "duplicate_samples": "deduplicate, then re-measure the validation optimum",
    "train_val_distribution_shift": "re-split or re-weight, then re-validate",
    "corrupt_samples": "drop the flagged samples and check the spike steps' batches",
    "outliers": "clip or normalise the inputs, then check the spike steps' batches",
    "label_noise": "clean or relabel the flagged samples",
    "unnormalised_features": "standardise the features",
    "class_imbalance": "use a balanced sampler or class weights",
}


def correlate(training: dict, data_quality: dict, *, min_probability: float = 0.5) -> list[dict]:
    """Return joint hypotheses linking the run's findings to the data-quality issues.

    Parameters
    ----------
    training : dict
        A saved AgentResult (``json.loads(result.to_json())``).
    data_quality : dict
        ``{"issues": [{"kind": str, ...}, ...]}`` from a data-quality agent.
    min_probability : float, default=0.5
        Findings less probable than this are ignored.

    Returns
    -------
    list of dict
        One per linked pair, most probable first, with ``training_finding``,
        ``data_issue``, ``probability``, ``onset_step``, ``hypothesis``, ``next_step``,
        ``confidence`` and ``validated_upstream``.
    """
    data_kinds = {issue["kind"]: issue for issue in data_quality.get("issues", [])}
    joint = []
    for finding in training["findings"]:
        probability = finding["probability"]
        if probability is None or probability < min_probability:
            continue
        for (train_kind, data_kind), hypothesis in LINKS.items():
            if finding["kind"] == train_kind and data_kind in data_kinds:
                joint.append(
                    {
                        "training_finding": finding["id"],
                        "data_issue": data_kind,
                        "probability": probability,
                        "onset_step": finding["onset_step"],
                        "hypothesis": hypothesis,
                        "next_step": NEXT_STEP[data_kind],
                        "confidence": training["confidence"]["level"],
                        "validated_upstream": training.get("upstream", {}).get("ran"),
                    }
                )
    return sorted(joint, key=lambda item: -item["probability"])


def main(argv: list[str] | None = None) -> int:
    """Print the joint hypotheses of two JSON files as JSON."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: cross_artifact_integration.py RESULT.json DATA_QUALITY.json")
        return 2
    training = json.loads(Path(args[0]).read_text())
    data_quality = json.loads(Path(args[1]).read_text())
    print(json.dumps(correlate(training, data_quality), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
