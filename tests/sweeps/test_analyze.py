"""analyze_sweep: recovery of a known response surface, false positives, small sweeps, speed."""

from __future__ import annotations

import json
import time
from importlib import resources

import jsonschema
import numpy as np
import pandas as pd
import pytest

from dynamics_stats.core.errors import ConfigError
from dynamics_stats.core.kinds import CORE_KINDS
from dynamics_stats.sweeps import SweepResult, SweepTable, analyze_sweep
from dynamics_stats.sweeps.effects import NO_EFFECT

INFLUENTIAL = ("lr", "depth", "optimizer")
INERT = ("weight_decay", "dropout", "use_ema", "activation")
ALPHA = 0.05


def _schema() -> dict:
    path = resources.files("dynamics_stats").joinpath("report/schema/sweep_result.v1.json")
    return json.loads(path.read_text())


@pytest.fixture(scope="module")
def known_results(make_sweep) -> list[SweepResult]:
    """Three seeds of the known surface, 200 runs each."""
    return [
        analyze_sweep(make_sweep(seed, n_runs=200), n_bootstrap=200, n_estimators=40, seed=seed)
        for seed in range(3)
    ]


def test_influential_parameters_are_significant_and_rank_first(known_results) -> None:
    for result in known_results:
        ranked = [p.name for p in result.parameters]
        assert set(ranked[:2]) == {"lr", "depth"}
        assert ranked.index("optimizer") < min(ranked.index(name) for name in INERT)
        for name in INFLUENTIAL:
            effect = result.parameter(name)
            assert effect.significant, name
            assert effect.effect == "clear effect", name
            assert effect.importance_interval[0] > 0.0, name


def test_signs_and_shapes_are_recovered(known_results) -> None:
    for result in known_results:
        depth = result.parameter("depth")
        assert depth.kind == "numeric"
        assert depth.direction == "increases"
        assert depth.better_when == "lower"
        assert depth.spearman > 0 and depth.spearman_interval[0] > 0
        assert depth.partial_correlation > 0
        lr = result.parameter("lr")
        assert lr.kind == "log-numeric"
        assert lr.direction == "non-monotone"  # (log10 lr + 3)^2 over lr in [1e-5, 1e-1]
        low, high = (float(v) for v in lr.best_level.split(" to "))
        assert low <= 1e-2 and high >= 1e-4  # the best bin lies around lr = 1e-3
        optimizer = result.parameter("optimizer")
        assert optimizer.direction == "by-level"
        assert optimizer.best_level in ("adam", "rmsprop")  # sgd adds +1 to the loss
        assert optimizer.epsilon_squared > 0
        # lr and depth mask the optimizer; the test net of them sees it more clearly
        assert optimizer.conditional_p_value < optimizer.kruskal_p_value


def test_inert_parameters_are_not_flagged(known_results) -> None:
    """False discoveries stay within what a 5% FDR allows; no inert one is called important.

    Each sweep has about 5 true discoveries (3 on the objective, lr on 2 pathologies), so a
    5% FDR allows about 0.25 false ones per sweep, 0.8 over three seeds; 3 or more would have
    probability < 5% under a Poisson(0.8) count.
    """
    false_discoveries = 0
    for result in known_results:
        for name in INERT:
            effect = result.parameter(name)
            false_discoveries += int(effect.significant) + len(effect.pathologies)
            assert effect.effect != "clear effect", name
            if not effect.significant:
                assert effect.effect == NO_EFFECT, name
            assert effect.importance_interval[0] <= 0.01, name
    assert false_discoveries <= 2


def test_pathology_links_follow_the_learning_rate(known_results) -> None:
    for result in known_results:
        links = {link.kind: link for link in result.parameter("lr").pathologies}
        assert links["divergence"].direction == "increases"
        assert links["divergence"].effect_size > 0.5
        assert links["stalled"].direction == "decreases"
        assert links["stalled"].effect_size < -0.5
        assert all(link.p_value_adjusted <= ALPHA for link in links.values())
        noise_kinds = set(CORE_KINDS) - {"divergence", "stalled"}
        assert not noise_kinds & set(links)


def test_interaction_measures_are_small_for_an_additive_surface(known_results) -> None:
    for result in known_results:
        assert result.interactions
        assert all(0.0 <= i.variance_frac < 0.1 for i in result.interactions)


def test_result_is_deterministic_for_a_seed(make_sweep) -> None:
    table = make_sweep(7, n_runs=40)
    first = analyze_sweep(table, n_bootstrap=60, n_estimators=20, seed=1)
    again = analyze_sweep(table, n_bootstrap=60, n_estimators=20, seed=1)
    assert first == again


def test_input_table_is_not_modified(make_sweep) -> None:
    table = make_sweep(8, n_runs=30)
    params, outcomes = table.params.copy(), table.outcomes.copy()
    analyze_sweep(table, n_bootstrap=60, n_estimators=20)
    pd.testing.assert_frame_equal(table.params, params)
    pd.testing.assert_frame_equal(table.outcomes, outcomes)


@pytest.mark.slow
def test_pure_noise_sweeps_rarely_give_a_discovery(make_noise_sweep) -> None:
    """Under the complete null BH controls the family-wise error: P(any discovery) <= alpha.

    Over 20 independent noise sweeps the number with any discovery is at most
    Binomial(20, 0.05); P(count >= 4) = 1.6%, so at most 3 are allowed.
    """
    with_discovery, flagged = 0, 0
    for seed in range(20):
        result = analyze_sweep(
            make_noise_sweep(seed, n_runs=40), n_bootstrap=100, n_estimators=10, seed=seed
        )
        with_discovery += any(p.significant or p.pathologies for p in result.parameters)
        flagged += sum(p.effect == "clear effect" for p in result.parameters)
    assert with_discovery <= 3
    assert flagged == 0


@pytest.mark.parametrize("n_runs", [3, 4, 5])
def test_tiny_sweeps_give_limitations_not_crashes(make_sweep, n_runs: int) -> None:
    result = analyze_sweep(make_sweep(0, n_runs=n_runs), n_bootstrap=50)
    jsonschema.validate(result.to_dict(), _schema())
    assert result.model.n_folds == 0
    assert any("importance model needs" in line for line in result.limitations)
    assert all(p.importance is None for p in result.parameters)
    assert len(result.runs) == n_runs


def test_constant_and_id_like_parameters_are_left_out_with_a_limitation() -> None:
    ids = [f"r{i}" for i in range(20)]
    rng = np.random.default_rng(0)
    params = pd.DataFrame(
        {"lr": rng.uniform(0.1, 1, 20), "batch": 32, "name": [f"run-{i}" for i in ids]}, index=ids
    )
    outcomes = pd.DataFrame({"val_acc": rng.normal(size=20)}, index=ids)
    table = SweepTable(params, outcomes, objective="val_acc", direction="maximize")
    result = analyze_sweep(table, n_bootstrap=50, n_estimators=20)
    assert [p.name for p in result.parameters] == ["lr"]
    assert any("'batch' takes a single value" in line for line in result.limitations)
    assert any("'name' has 20 distinct values" in line for line in result.limitations)


def test_maximize_flips_which_side_is_better() -> None:
    rng = np.random.default_rng(1)
    ids = [f"r{i}" for i in range(60)]
    width = rng.integers(16, 512, 60)
    params = pd.DataFrame({"width": width, "noise": rng.normal(size=60)}, index=ids)
    outcomes = pd.DataFrame({"val_acc": width / 512 + rng.normal(0, 0.1, 60)}, index=ids)
    table = SweepTable(params, outcomes, objective="val_acc", direction="maximize")
    effect = analyze_sweep(table, n_bootstrap=100, n_estimators=30).parameter("width")
    assert effect.direction == "increases"
    assert effect.better_when == "higher"


def test_log_scale_override(make_sweep) -> None:
    table = make_sweep(0, n_runs=30)
    result = analyze_sweep(
        table, n_bootstrap=50, n_estimators=20, log_scale={"lr": False, "dropout": True}
    )
    assert result.parameter("lr").kind == "numeric"
    assert result.parameter("dropout").kind == "log-numeric"
    assert result.parameter("weight_decay").kind == "log-numeric"
    with pytest.raises(ConfigError, match="log_scale names parameters not in the sweep"):
        analyze_sweep(table, log_scale={"learning_rate": True})
    with pytest.raises(ConfigError, match="'optimizer' is not numeric"):
        analyze_sweep(table, log_scale={"optimizer": True})


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"n_bootstrap": 10}, "n_bootstrap must be an int >= 50"),
        ({"alpha": 0.7}, "alpha must lie in"),
        ({"n_estimators": 2}, "n_estimators must be an int >= 10"),
    ],
)
def test_bad_options_are_config_errors(make_sweep, options: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        analyze_sweep(make_sweep(0, n_runs=10), **options)


@pytest.mark.slow
def test_thousand_runs_by_ten_parameters_is_fast() -> None:
    rng = np.random.default_rng(5)
    n_runs = 1000
    ids = [f"r{i}" for i in range(n_runs)]
    columns = {f"x{i}": rng.uniform(size=n_runs) for i in range(8)}
    columns["lr"] = 10 ** rng.uniform(-5, -1, n_runs)
    columns["optimizer"] = rng.choice(["adam", "sgd", "lion"], n_runs)
    params = pd.DataFrame(columns, index=ids)
    outcomes = pd.DataFrame({"best_val_loss": columns["x0"] + rng.normal(0, 0.2, n_runs)}, ids)
    for kind in CORE_KINDS:
        outcomes[f"p_{kind}"] = rng.uniform(size=n_runs)
    table = SweepTable(params, outcomes, objective="best_val_loss", direction="minimize")
    # CPU time, not wall time: the CI machine is shared, and other jobs must not fail this.
    start = time.process_time()
    result = analyze_sweep(table)
    elapsed = time.process_time() - start
    assert elapsed < 30.0
    assert result.parameters[0].name == "x0"


def test_messy_table_gives_a_valid_result() -> None:
    """All-missing, infinite, mixed-type, nullable-boolean and 0/1 columns; NaN outcomes."""
    rng = np.random.default_rng(11)
    n_runs = 30
    ids = [f"r{i}" for i in range(n_runs)]
    mixed = rng.choice([1, 2, "auto"], n_runs).astype(object)
    flag = pd.Series(rng.random(n_runs) < 0.5, dtype=object)
    flag[[0, 1]] = None
    lr = 10 ** rng.uniform(-4, -1, n_runs)
    lr[2] = np.inf
    params = pd.DataFrame(
        {
            "lr": lr,
            "empty": np.nan,
            "mixed": mixed,
            "flag": flag.to_numpy(),
            "binary": rng.integers(0, 2, n_runs),
            "only_one": pd.Series(["x"] * (n_runs - 3) + [None] * 3, dtype=object).to_numpy(),
        },
        index=ids,
    )
    outcomes = pd.DataFrame(
        {"best_val_loss": rng.normal(size=n_runs), "p_divergence": np.nan, "status": "ok"},
        index=ids,
    )
    outcomes.loc[ids[:4], "best_val_loss"] = np.nan
    table = SweepTable(params, outcomes, objective="best_val_loss", direction="minimize")
    result = analyze_sweep(table, n_bootstrap=50, n_estimators=10)
    jsonschema.validate(result.to_dict(), _schema())
    assert SweepResult.from_dict(json.loads(result.to_json())) == result
    kinds = {p.name: p.kind for p in result.parameters}
    assert kinds == {
        "lr": "log-numeric",
        "mixed": "categorical",
        "flag": "boolean",
        "binary": "numeric",
    }
    assert result.n_runs_used == 26
    assert any("4 of 30 runs have no finite best_val_loss" in line for line in result.limitations)
    assert any("'empty' is missing in every run" in line for line in result.limitations)
    assert any("'only_one' takes a single value" in line for line in result.limitations)
    assert all(p.pathologies == () for p in result.parameters)
