"""Every shipped scenario with ACTIONDESK_PLANNER=llm: the model (an on-call engineer's moves, served by the local
OpenAI-compatible endpoint) plans instead of the runbooks, and the scenarios' expectations still hold, because
policy, approvals and the executor decide, not the planner. The report counts the model's calls and tokens."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from llmscript import ScriptedModel, operator

from actiondesk.adapters.sandbox import load_scenario
from actiondesk.adapters.store import SqlStore
from actiondesk.agents.fulfilment.forms import OFFBOARD, ONBOARD
from actiondesk.bot.scenario.runner import run_scenario
from actiondesk.core.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted((ROOT / "scenarios").glob("*.yaml"))


@pytest.fixture
def endpoint() -> Iterator[ScriptedModel]:
    server = ScriptedModel().start()
    server.respond = operator
    yield server
    server.stop()
    server.assert_done()


def settings(database_url: str, base_url: str) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=database_url,
        agent_identity="actiondesk",
        max_steps=12,
        approval_ttl_seconds=3600,
        verify_timeout_seconds=120.0,
        verify_interval_seconds=10.0,
        triage_lookback_minutes=60,
        change_window_minutes=30,
        lease_seconds=30.0,
        autonomy={},
        granted_scopes={},
        runbook_dir=None,
        planner="llm",
        openai_api_key="sk-scenario-key-0123456789abcdef",
        openai_base_url=base_url,
        llm_model="scripted-1",
        llm_prices={"scripted-1": {"prompt": 0.15, "completion": 0.6}},
    )


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_every_shipped_scenario_passes_with_the_llm_planner(
    path: Path, store: SqlStore, database_url: str, endpoint: ScriptedModel
) -> None:
    report = run_scenario(load_scenario(path), settings(database_url, endpoint.base_url), store)

    assert report.passed, report.mismatches
    assert report.llm_calls == len(endpoint.requests)
    if endpoint.requests:
        assert report.tokens > 0
        assert all(r["model"] == "scripted-1" for r in endpoint.requests)
    dumped = report.model_dump(mode="json")
    assert {"llm_calls", "tokens"} <= set(dumped)


def _fulfilment(path: Path) -> bool:
    """An onboarding or offboarding: its plan comes from the role catalog, never from a planner."""
    texts = [e.message.text for e in load_scenario(path).events if e.message is not None]
    return any(ONBOARD.match(t) or OFFBOARD.match(t) for t in texts)


INCIDENTS = [p for p in FILES if not _fulfilment(p)]


# Which scenarios reach the model is triage's doing, not the database's, and every scenario above already plays on
# both databases: this count replays them all once more, on SQLite only.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_model_planned_most_scenarios(store: SqlStore, database_url: str, endpoint: ScriptedModel) -> None:
    planned = 0
    for path in INCIDENTS:
        before = len(endpoint.requests)
        run_scenario(load_scenario(path), settings(database_url, endpoint.base_url), store)
        planned += len(endpoint.requests) > before
    assert planned >= len(INCIDENTS) - 2, "only scenarios where triage abstains never reach the model"
