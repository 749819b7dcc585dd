import pytest

from dynamics_stats import (
    ConfigError,
    DataQualityWarning,
    DynamicsStatsError,
    DynamicsStatsWarning,
    FitWarning,
    InputError,
    InvalidRunError,
    LoadError,
    ModelFitError,
    NotFittedError,
    UnknownNameError,
    ValidationReport,
)


@pytest.mark.parametrize(
    ("cls", "builtin"),
    [
        (InputError, ValueError),
        (LoadError, ValueError),
        (ConfigError, ValueError),
        (UnknownNameError, LookupError),
        (NotFittedError, AttributeError),
    ],
)
def test_errors_keep_the_builtin_catchable(cls, builtin):
    assert issubclass(cls, DynamicsStatsError) and issubclass(cls, builtin)


def test_invalid_run_carries_its_report():
    report = ValidationReport("x")
    err = InvalidRunError("nothing to analyse", report)
    assert err.report is report and isinstance(err, InputError)


def test_unknown_name_message_is_not_quoted():
    assert str(UnknownNameError("no detector named 'x'")) == "no detector named 'x'"


def test_warning_categories():
    assert issubclass(DataQualityWarning, DynamicsStatsWarning)
    assert issubclass(FitWarning, UserWarning)
    assert not issubclass(ModelFitError, InputError)
