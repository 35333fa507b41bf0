"""Onboarding requests are a pattern of their own in the figures (MTTR per pattern), next to the runbooks."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from actiondesk.adapters.sandbox import load_scenario
from actiondesk.adapters.store import SqlStore
from actiondesk.bot.reports import metrics
from actiondesk.bot.scenario.runner import run_scenario
from actiondesk.core.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def test_onboarding_mttr_is_its_own_pattern(store: SqlStore, database_url: str) -> None:
    settings = Settings(_env_file=None, database_url=database_url)  # type: ignore[call-arg]
    for name in ("onboarding-data-analyst", "vpn-locked-reset"):
        assert run_scenario(load_scenario(ROOT / "scenarios" / f"{name}.yaml"), settings, store).passed
    figures = metrics.report(store, datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 30, tzinfo=UTC), 0.0)
    assert set(figures.mttr_by_pattern) == {"onboarding", "reset-locked-vpn-session"}
    onboarding = figures.mttr_by_pattern["onboarding"]
    assert onboarding.count == 1
    # opened at 09:01 on the 2nd, resolved when the account was switched on at midnight on the 9th
    opened, resolved = datetime(2026, 11, 2, 9, 1, tzinfo=UTC), datetime(2026, 11, 9, tzinfo=UTC)
    assert onboarding.mean == (resolved - opened).total_seconds()
    assert metrics.as_json(figures)["mttr_by_pattern"]["onboarding"]["count"] == 1  # what the dashboard reads
