"""The HTML report in a real headless browser (Debian's chromium through Selenium).

Skipped when selenium, chromium or chromedriver is missing, except when the environment
variable ``DYNAMICS_STATS_REQUIRE_BROWSER=1`` is set: CI installs them (``.ci/run``) and sets
it, so there a missing browser fails the test instead of skipping it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import pytest

from dynamics_stats.agent.analyze import AnalysisDetails
from dynamics_stats.report.html import render_html

pytestmark = pytest.mark.slow

_CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
_DRIVER = shutil.which("chromedriver")
_REQUIRED = os.environ.get("DYNAMICS_STATS_REQUIRE_BROWSER") == "1"


def _unavailable(reason: str) -> NoReturn:
    if _REQUIRED:
        pytest.fail(f"{reason}, but DYNAMICS_STATS_REQUIRE_BROWSER=1 requires the browser test")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """A headless chromium that records the console (skips when it cannot start)."""
    try:
        from selenium import webdriver
    except ImportError:
        _unavailable("selenium is not installed (pip install selenium)")
    if _CHROMIUM is None or _DRIVER is None:
        _unavailable(
            "chromium and chromedriver are not installed (apt-get install chromium chromium-driver)"
        )
    options = webdriver.ChromeOptions()
    options.binary_location = _CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(flag)
    options.add_argument("--window-size=1100,900")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(_DRIVER))
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def _open(browser: Any, page: str, path: Path) -> list[dict[str, Any]]:
    path.write_text(page, encoding="utf-8")
    browser.get_log("browser")  # drop what earlier pages logged
    browser.get(path.as_uri())
    return [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]


def test_probe_sees_a_script_that_runs(browser: Any, tmp_path: Path) -> None:
    """Control: the checks below would notice an injected script that ran."""
    page = "<!DOCTYPE html><html><body><script>window.__pwned=1;</script></body></html>"
    _open(browser, page, tmp_path / "control.html")
    assert browser.execute_script("return window.__pwned") == 1


def test_report_loads_cleanly_renders_plots_and_runs_no_injected_script(
    browser: Any, tmp_path: Path, spiky_details: AnalysisDetails, hostile: dict[str, str]
) -> None:
    severe = _open(browser, render_html(spiky_details), tmp_path / "report.html")
    assert severe == []
    assert browser.execute_script("return typeof window.__pwned") == "undefined"
    assert browser.execute_script("return document.scripts.length") == 0
    assert "pwned" not in browser.title
    assert hostile["source"] in browser.title
    sizes = browser.execute_script(
        "return Array.from(document.querySelectorAll('svg.chart')).map(s => {"
        "const r = s.getBoundingClientRect(); return [r.width, r.height,"
        " s.querySelectorAll('path').length, s.querySelectorAll('circle').length]; })"
    )
    assert len(sizes) == 4
    assert all(width > 100 and height > 50 for width, height, _, _ in sizes)
    assert all(n_paths >= 1 for _, _, n_paths, _ in sizes)
    n_spikes = len(next(f for f in spiky_details.result.findings if f.kind == "loss_spikes").steps)
    assert sizes[0][3] >= n_spikes
    body_text = browser.execute_script("return document.body.innerText")
    assert hostile["metric"] in body_text and hostile["hparam"] in body_text
