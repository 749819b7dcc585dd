import pytest

from dynamics_stats import ConfigError, LoadError
from dynamics_stats.core.analysis_config import (
    DEFAULT_RISK_WEIGHTS,
    AnalysisConfig,
    PolicyConfig,
    TrainingDynamicsConfig,
    load_config,
)


def test_analysis_config_is_the_same_class():
    assert AnalysisConfig is TrainingDynamicsConfig


def test_from_dict_rejects_unknown_keys_listing_valid_ones():
    with pytest.raises(
        ConfigError, match="unknown TrainingDynamicsConfig key.*Valid keys: validation"
    ):
        TrainingDynamicsConfig.from_dict({"thresholds": 1})
    with pytest.raises(ConfigError, match="unknown ValidationConfig key"):
        TrainingDynamicsConfig.from_dict({"validation": {"role": {}}})
    with pytest.raises(ConfigError, match=r"unknown PolicyConfig key\(s\): risk\. Valid keys"):
        TrainingDynamicsConfig.from_dict({"policy": {"risk": 0.5}})
    with pytest.raises(ConfigError, match="unknown SmoothingConfig key.*max_points"):
        TrainingDynamicsConfig.from_dict({"curves": {"smoothing": {"points": 10}}})


def test_toml_round_trip(tmp_path):
    path = tmp_path / "cfg.toml"
    path.write_text(
        "min_probability = 0.7\nmax_model_points = 80\n"
        'disabled_detectors = ["efficiency"]\n'
        '[validation.roles]\nnorm = "grad_norm"\n'
        "[detectors.spikes]\nz_threshold = 8.0\n"
        "[policy]\nrisk_high = 0.8\nlr_response_windows = 10\n"
        "[curves.changepoints]\nmax_changepoints = 3\n"
    )
    config = load_config(path)
    assert config.min_probability == 0.7 and config.max_model_points == 80
    assert config.disabled_detectors == ("efficiency",)
    assert config.validation.roles["norm"] == "grad_norm"
    assert config.detectors["spikes"]["z_threshold"] == 8.0
    assert config.policy.risk_high == 0.8 and config.policy.lr_response_windows == 10
    assert config.curves.changepoints.max_changepoints == 3


def test_bad_toml_names_the_file(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("min_probability = = 1")
    with pytest.raises(LoadError, match="bad.toml"):
        load_config(path)


def test_bad_value_in_toml_names_the_file_and_the_field(tmp_path):
    path = tmp_path / "cfg.toml"
    path.write_text("[policy]\nrisk_medium = 2.0\n")
    with pytest.raises(ConfigError, match=r"cfg\.toml.*PolicyConfig\.risk_medium"):
        load_config(path)


def test_invalid_value_fails_where_written():
    with pytest.raises(ConfigError, match="min_probability"):
        TrainingDynamicsConfig(min_probability=1.5)
    with pytest.raises(ConfigError, match="max_model_points must be an int >= 20; got 5"):
        TrainingDynamicsConfig(max_model_points=5)
    with pytest.raises(ConfigError, match="risk_high"):
        PolicyConfig(risk_medium=0.6, risk_high=0.5)
    with pytest.raises(ConfigError, match="enabled_detectors must be a list"):
        TrainingDynamicsConfig(enabled_detectors="spikes")
    with pytest.raises(ConfigError, match="detectors must map"):
        TrainingDynamicsConfig(detectors={"spikes": 3})


def test_config_is_frozen_and_its_tables_read_only():
    config = TrainingDynamicsConfig.from_dict({"detectors": {"spikes": {"window": 9}}})
    with pytest.raises(AttributeError):
        config.min_probability = 0.1
    with pytest.raises(TypeError):
        config.detectors["spikes"]["window"] = 3


def test_risk_weights_merge_with_the_defaults_and_are_checked():
    policy = PolicyConfig(risk_weights={"oscillation": 1.0})
    assert policy.risk_weights["oscillation"] == 1.0
    assert policy.risk_weights["divergence"] == DEFAULT_RISK_WEIGHTS["divergence"]
    with pytest.raises(ConfigError, match="unknown kind.*oscilation.*valid kinds: overfitting"):
        PolicyConfig(risk_weights={"oscilation": 1.0})
    with pytest.raises(ConfigError, match=r"risk_weights\['stalled'\] must be a number in"):
        PolicyConfig(risk_weights={"stalled": 2})
    config = TrainingDynamicsConfig.from_dict({"policy": {"risk_weights": {"stalled": 0.5}}})
    assert config.policy.risk_weights["stalled"] == 0.5
