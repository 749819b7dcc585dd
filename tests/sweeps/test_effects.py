"""Effect records: JSON round trip with missing statistics."""

from __future__ import annotations

import json

from dynamics_stats.sweeps.effects import Interaction, ParameterEffect, PathologyLink


def _effect(**changes) -> ParameterEffect:
    values = {name: None for name in ParameterEffect.__slots__}
    values.update(
        name="optimizer",
        rank=1,
        kind="categorical",
        n_runs=12,
        n_missing=0,
        significant=False,
        direction="none",
        pathologies=(),
        effect="no detectable effect",
    )
    values.update(changes)
    return ParameterEffect(**values)


def test_effect_with_missing_statistics_round_trips() -> None:
    effect = _effect()
    data = json.loads(json.dumps(effect.to_dict(), allow_nan=False))
    assert data["spearman"] is None and data["importance_interval"] is None
    assert ParameterEffect.from_dict(data) == effect


def test_effect_with_links_round_trips() -> None:
    link = PathologyLink("divergence", "spearman", 0.8, 1e-6, "increases")
    effect = _effect(
        kind="log-numeric",
        spearman=0.4,
        spearman_interval=(0.2, 0.6),
        importance=0.3,
        importance_interval=(0.1, 0.5),
        significant=True,
        direction="increases",
        pathologies=(link,),
    )
    assert ParameterEffect.from_dict(json.loads(json.dumps(effect.to_dict()))) == effect
    assert effect.to_dict()["pathologies"][0]["kind"] == "divergence"


def test_interaction_round_trips() -> None:
    interaction = Interaction(("lr", "batch_size"), 0.4, 0.05)
    assert Interaction.from_dict(json.loads(json.dumps(interaction.to_dict()))) == interaction
