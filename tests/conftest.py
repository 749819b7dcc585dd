"""Shared fixtures: seeded random numbers and the public-runs corpus beside the repo."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
PUBLIC_RUNS = REPO_ROOT.parent / "shared" / "data" / "public_runs"


@pytest.fixture(autouse=True)
def _private_user_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keep every test away from the real ~/.dynamics_stats (feedback store, user maps)."""
    monkeypatch.setenv("DYNAMICS_STATS_HOME", str(tmp_path_factory.mktemp("home")))
    monkeypatch.delenv("DYNAMICS_STATS_USER_MAPS", raising=False)


@pytest.fixture
def rng() -> np.random.Generator:
    """A seeded generator, the same in every test."""
    return np.random.default_rng(20261126)


@pytest.fixture(scope="session")
def public_runs() -> Path:
    """The folder of real public training logs, or a skip naming where it was looked for."""
    if not PUBLIC_RUNS.is_dir():
        pytest.skip(f"public runs corpus not found at {PUBLIC_RUNS}")
    return PUBLIC_RUNS
