"""The callbacks package imports its frameworks lazily, with a clear message if missing."""

from __future__ import annotations

import subprocess
import sys

import pytest

import dynamics_stats.callbacks as callbacks


def test_importing_the_package_does_not_import_the_frameworks() -> None:
    code = (
        "import sys, dynamics_stats.callbacks; "
        "print('lightning' in sys.modules, 'transformers' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.split() == ["False", "False"]


@pytest.mark.parametrize(
    ("name", "package", "extra"),
    [("LightningMonitor", "lightning", "lightning"), ("HFMonitor", "transformers", "hf")],
)
def test_a_missing_framework_names_the_extra_to_install(
    monkeypatch: pytest.MonkeyPatch, name: str, package: str, extra: str
) -> None:
    monkeypatch.setitem(sys.modules, package, None)  # makes `import <package>` fail
    with pytest.raises(ImportError, match=rf'pip install "dynamics_stats\[{extra}\]"'):
        getattr(callbacks, name)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        callbacks.Nope  # noqa: B018


def test_public_names() -> None:
    assert sorted(callbacks.__all__) == callbacks.__all__
    for name in callbacks.__all__:
        assert getattr(callbacks, name) is not None
