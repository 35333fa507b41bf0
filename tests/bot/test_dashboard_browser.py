"""The resolution dashboard in headless Chromium: real charts from recorded cases, and a screenshot."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from serverproc import ROOT, ServerProcess, server_env

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.browser

SCENARIOS = ["bad-deploy-rollback.yaml", "low-risk-autonomous.yaml", "no-deploy-control.yaml"]
DAYS = (datetime.now(UTC) - datetime(2026, 11, 1, tzinfo=UTC)).days + 2  # reaches the scenarios' simulated days

# Counts the pixels of a canvas drawn in the chart colours (not background, not grey grid or text).
COLOURED_PIXELS = """(canvas) => {
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let coloured = 0;
  for (let i = 0; i < data.length; i += 4) {
    const [r, g, b, a] = [data[i], data[i + 1], data[i + 2], data[i + 3]];
    if (a > 200 && Math.max(r, g, b) - Math.min(r, g, b) > 60) coloured += 1;
  }
  return coloured;
}"""


def _start(workdir: Path, played: bool) -> ServerProcess:
    # Scenarios keep the default verification interval (simulated time); the server counts infrastructure cost.
    env = server_env(f"sqlite:///{workdir / 'a.db'}", ACTIONDESK_INFRA_COST_PER_HOUR="0.05")
    env.pop("ACTIONDESK_VERIFY_INTERVAL_SECONDS")
    if played:
        for name in SCENARIOS:
            done = subprocess.run(
                [sys.executable, "-m", "actiondesk", "scenario", "run", str(ROOT / "scenarios" / name)],
                env=env,
                cwd=workdir,
                capture_output=True,
                text=True,
                check=False,
            )
            assert done.returncode == 0, done.stdout + done.stderr
    return ServerProcess.start(env, cwd=workdir)


@pytest.fixture(scope="module")
def server(browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    started = _start(tmp_path_factory.mktemp("dashboard"), played=True)
    yield started
    started.stop()


def _open(browser: Browser, url: str) -> Page:
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{url.rstrip('/')}/dashboard?days={DAYS}")
    page.wait_for_selector(f"body[data-loaded='{DAYS}']", timeout=30_000)
    assert errors == [], errors
    return page


def test_the_dashboard_draws_mttr_fcr_and_cost_charts(browser: Browser, server: ServerProcess, tmp_path: Path):
    page = _open(browser, server.url)
    for chart in ("mttr", "fcr", "cost"):
        canvas = page.locator(f"[data-chart='{chart}']")
        assert canvas.get_attribute("data-state") == "drawn", f"the {chart} chart is empty"
        points = int(canvas.get_attribute("data-points") or 0)
        assert points >= 1
        assert canvas.evaluate(COLOURED_PIXELS) > 60 * points, f"the {chart} chart drew (almost) nothing"
    assert page.get_by_test_id("kpi-fcr").inner_text() == "67 %"  # the control scenario hands off
    assert page.get_by_test_id("kpi-closed").inner_text() == "2 resolved of 3 cases"
    assert "min" in page.get_by_test_id("kpi-mttr").inner_text() or " s" in page.get_by_test_id("kpi-mttr").inner_text()
    payments = page.locator("[data-testid='owners-body'] tr[data-team='payments'] td")
    nothing = "\u2013"  # the dashboard's en dash: no figure
    assert payments.all_inner_texts() == ["payments", "1", nothing, nothing, "1"]  # handed off once, still waiting
    shot = tmp_path / "dashboard.png"  # kept by pytest's tmp_path retention for people to look at
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    page.context.close()


def test_an_empty_period_says_so_instead_of_drawing_a_broken_chart(browser: Browser, tmp_path: Path):
    server = _start(tmp_path, played=False)
    try:
        page = _open(browser, server.url)
        for chart in ("mttr", "fcr", "cost"):
            canvas = page.locator(f"[data-chart='{chart}']")
            assert canvas.get_attribute("data-state") == "empty"
            assert canvas.evaluate(COLOURED_PIXELS) == 0
        assert page.get_by_test_id("kpi-mttr").inner_text() == "\u2013"  # an en dash: no figure
        page.context.close()
    finally:
        server.stop()
