from dataclasses import dataclass

import pytest

from dynamics_stats import ConfigError
from dynamics_stats.core._checks import check_choice, check_float, check_int


@dataclass
class Owner:
    window: object = 5
    frac: object = 0.5
    mode: object = "a"


def test_check_int_names_owner_parameter_and_value():
    with pytest.raises(ConfigError, match=r"Owner.window must be an int >= 3; got 1"):
        check_int(Owner(window=1), "window", low=3)
    with pytest.raises(ConfigError):
        check_int(Owner(window=True), "window")
    check_int(Owner(), "window", low=3, high=10)


def test_check_float_rejects_nan_and_bounds():
    with pytest.raises(ConfigError, match="finite number"):
        check_float(Owner(frac=float("nan")), "frac")
    with pytest.raises(ConfigError, match="> 0"):
        check_float(Owner(frac=0.0), "frac", low=0.0, low_open=True)
    check_float(Owner(), "frac", low=0.0, high=1.0)


def test_check_choice_lists_choices():
    with pytest.raises(ConfigError, match="'a', 'b'"):
        check_choice(Owner(mode="c"), "mode", ("a", "b"))
