import pytest

from dynamics_stats import ConfigError, LoadError
from dynamics_stats.core.analysis_config import AnalysisConfig, load_config


def test_from_dict_rejects_unknown_keys_listing_valid_ones():
    with pytest.raises(ConfigError, match="unknown AnalysisConfig key.*Valid keys: validation"):
        AnalysisConfig.from_dict({"thresholds": 1})
    with pytest.raises(ConfigError, match="unknown ValidationConfig key"):
        AnalysisConfig.from_dict({"validation": {"role": {}}})


def test_toml_round_trip(tmp_path):
    path = tmp_path / "cfg.toml"
    path.write_text(
        'min_probability = 0.7\n[validation.roles]\nnorm = "grad_norm"\n'
        "[detectors.spikes]\nz_threshold = 8.0\n"
    )
    config = load_config(path)
    assert config.min_probability == 0.7
    assert config.validation.roles["norm"] == "grad_norm"
    assert config.detectors["spikes"]["z_threshold"] == 8.0


def test_bad_toml_names_the_file(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("min_probability = = 1")
    with pytest.raises(LoadError, match="bad.toml"):
        load_config(path)


def test_invalid_value_fails_where_written():
    with pytest.raises(ConfigError, match="min_probability"):
        AnalysisConfig(min_probability=1.5)
