"""The resolution dashboard in headless Chromium: real charts (Chart.js) from recorded cases, today's cases under
today's date in the browser's own (non-UTC) time zone, axes in the value's unit with distinct ticks, FCR with its
base, empty panels that say why, and a screenshot."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pytest
from serverproc import ROOT, ServerProcess, keep_screenshot, server_env, signed_in, wait_for

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


def _open(browser: Browser, url: str, days: int = DAYS, zone: str = "UTC") -> Page:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, timezone_id=zone, locale="en-US")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{url.rstrip('/')}/dashboard?days={days}")
    page.wait_for_selector(f"body[data-loaded='{days}']", timeout=30_000)
    assert errors == [], errors
    return page


SCALE = """([chart, axis]) => {
  const drawn = Chart.getChart(document.querySelector(`[data-chart='${chart}']`));
  return {ticks: drawn.scales[axis].ticks.map((t) => t.label), labels: drawn.data.labels,
          values: drawn.data.datasets[0].data};
}"""


def _zone_where_the_date_is_not_utcs() -> str:
    """A time zone whose calendar date differs from UTC's at this moment (+14 h or -11 h: one of them always
    does), so that a day bucketed in UTC would show the wrong date."""
    now = datetime.now(UTC)
    for zone in ("Pacific/Kiritimati", "Pacific/Pago_Pago"):
        if now.astimezone(ZoneInfo(zone)).date() != now.date():
            return zone
    raise AssertionError("no zone differs from UTC now")  # cannot happen: +14 h and -11 h cover every hour


def test_the_dashboard_draws_mttr_fcr_and_cost_charts(browser: Browser, server: ServerProcess, tmp_path: Path):
    page = _open(browser, server.url)
    for chart in ("mttr", "fcr", "cost"):
        canvas = page.locator(f"[data-chart='{chart}']")
        assert canvas.get_attribute("data-state") == "drawn", f"the {chart} chart is empty"
        points = int(canvas.get_attribute("data-points") or 0)
        assert points >= 1
        assert canvas.evaluate(COLOURED_PIXELS) > 60 * points, f"the {chart} chart drew (almost) nothing"
    assert page.get_by_test_id("kpi-fcr").inner_text() == "67 %"  # the control scenario hands off
    assert page.get_by_test_id("kpi-closed").inner_text() == "2 of 3 closed · 2 resolved of 3 cases"  # FCR's base
    fcr = page.evaluate(SCALE, ["fcr", "y"])
    assert fcr["ticks"] == ["0 %", "25 %", "50 %", "75 %", "100 %"]  # capped at 100 %
    assert all(v is None or 0 <= v <= 100 for v in fcr["values"])
    cost = page.evaluate(SCALE, ["cost", "x"])
    assert len(set(cost["ticks"])) == len(cost["ticks"]) >= 2
    assert all(t.startswith("$") for t in cost["ticks"])
    assert "min" in page.get_by_test_id("kpi-mttr").inner_text() or " s" in page.get_by_test_id("kpi-mttr").inner_text()
    payments = page.locator("[data-testid='owners-body'] tr[data-team='payments'] td")
    nothing = "\u2013"  # the dashboard's en dash: no figure
    assert payments.all_inner_texts() == ["payments", "1", nothing, nothing, "1"]  # handed off once, still waiting
    shot = tmp_path / "dashboard.png"  # kept by pytest's tmp_path retention for people to look at
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    keep_screenshot(page, "dashboard.png", full_page=True)
    page.context.close()


def test_todays_case_is_under_todays_date_in_the_browsers_time_zone(browser: Browser, tmp_path: Path):
    """Defect: the days were 24-hour windows ending now, labelled with their UTC start date, so today's cases
    were filed under yesterday. Now a day is a calendar day in the viewer's time zone."""
    zone = _zone_where_the_date_is_not_utcs()
    server = _start(tmp_path, played=False)
    try:
        with signed_in(server.url, "alice") as alice:
            opened = alice.post("/api/cases", json={"text": "search is really slow"})
            assert opened.status_code in (200, 201), opened.text
            case_id = opened.json()["id"]
            wait_for(lambda: alice.get(f"/api/cases/{case_id}").json()["status"] == "resolved", "the case resolved", 90)
        page = _open(browser, server.url, days=7, zone=zone)
        today = datetime.now(ZoneInfo(zone)).date()
        mttr = page.evaluate(SCALE, ["mttr", "x"])
        assert len(mttr["labels"]) == 7  # seven calendar days, today the last
        assert mttr["labels"][-1] == f"{today:%b} {today.day}"
        assert mttr["values"][-1] is not None
        assert all(v is None for v in mttr["values"][:-1])
        assert page.get_by_test_id("time-zone").inner_text() == zone
        ticks = page.evaluate(SCALE, ["mttr", "y"])["ticks"]
        unit = page.get_by_test_id("mttr-unit").inner_text()
        assert unit in ("seconds", "minutes", "hours")
        assert len(ticks) >= 2
        assert len(set(ticks)) == len(ticks), ticks  # distinct ticks
        assert all(t.endswith({"seconds": " s", "minutes": " min", "hours": " h"}[unit]) for t in ticks), ticks
        fcr = page.evaluate(SCALE, ["fcr", "x"])
        assert fcr["labels"][-1] == f"{today:%b} {today.day}"
        assert fcr["values"][-1] == 100
        assert page.get_by_test_id("kpi-closed").inner_text().startswith("1 of 1 closed")
        page.context.close()
    finally:
        server.stop()


def test_an_empty_period_says_so_instead_of_drawing_a_broken_chart(browser: Browser, tmp_path: Path):
    server = _start(tmp_path, played=False)
    try:
        page = _open(browser, server.url)
        for chart in ("mttr", "fcr", "cost"):
            canvas = page.locator(f"[data-chart='{chart}']")
            assert canvas.get_attribute("data-state") == "empty"
            assert canvas.evaluate(COLOURED_PIXELS) == 0
            assert canvas.is_hidden()
        why = {chart: page.get_by_test_id(f"chart-{chart}-empty").inner_text() for chart in ("mttr", "fcr", "cost")}
        assert why["mttr"].startswith("No case was resolved in the last")
        assert "resolved cases only" in why["mttr"]
        assert "share of closed cases" in why["fcr"]
        assert why["cost"].startswith("No request was resolved")
        assert page.get_by_test_id("kpi-mttr").inner_text() == "\u2013"  # an en dash: no figure
        page.context.close()
    finally:
        server.stop()
