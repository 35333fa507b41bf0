"""The onboarding form in Teams, over HTTP with real JWTs: `onboard` alone answers with the form card; its
Action.Execute with bad fields returns the card with each problem under its field (nothing opened); a good one
opens the request's case in the conversation and returns its card."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from teams_fakes import Connector, TokenService, activity, card_text, cards, mention, settings_for, start_desk

from actiondesk.core.case import CaseKind


@pytest.fixture
async def teams(tmp_path) -> AsyncIterator[tuple[Any, TokenService, Connector, httpx.AsyncClient]]:
    tokens, connector = TokenService(), Connector()
    await tokens.start_service()
    await connector.start_connector()
    desk = await start_desk(settings_for(tmp_path, tokens))
    async with httpx.AsyncClient(timeout=30) as http:
        yield desk, tokens, connector, http
    await desk.runner.cleanup()
    await connector.stop()
    await tokens.stop()


async def _post(teams, body: dict[str, Any]) -> httpx.Response:
    desk, tokens, _, http = teams
    token = tokens.mint(body["serviceUrl"])
    return await http.post(f"{desk.url}/api/messages", json=body, headers={"Authorization": f"Bearer {token}"})


def _submit(url: str, conversation: str, **fields: str) -> dict[str, Any]:
    value = {"action": {"type": "Action.Execute", "id": "onboard", "verb": "onboard", "data": {"verb": "onboard",
             **fields}}, "trigger": "manual"}  # fmt: skip
    return activity("invoke", url, user="bob", conversation=conversation, name="adaptiveCard/action", value=value)


async def test_the_form_card_checks_every_field_before_opening_the_request(teams):
    desk, _, connector, _ = teams
    ask = mention(connector.url, "onboard", user="bob")
    assert (await _post(teams, ask)).status_code == 201
    form = await connector.wait_for(lambda calls: [c for c in calls if c.method == "POST" and cards(c)])
    card = cards(form[0])[0]
    role = next(e for e in card["body"] if e.get("id") == "role")
    assert [c["value"] for c in role["choices"]] == ["data-analyst", "sales-rep", "sre"]
    assert desk.runtime.store.list_cases() == []

    conversation = ask["conversation"]["id"]
    bad = await _post(teams, _submit(connector.url, conversation, name="Jane", role="data-analyst",
                                     start="2001-01-01", manager="nobody"))  # fmt: skip
    assert bad.status_code == 200
    shown = bad.json()["value"]
    assert "in the past" in card_text(shown)
    assert "no person 'nobody'" in card_text(shown)
    assert next(e for e in shown["body"] if e.get("id") == "name")["value"] == "Jane", "the values are kept"
    assert desk.runtime.store.list_cases() == []

    sent = _submit(connector.url, conversation, name="Jane Doe", role="data-analyst", start="2030-01-07",
                   manager="bob")  # fmt: skip
    good = await _post(teams, sent)
    assert good.status_code == 200
    assert "onboard Jane Doe" in card_text(good.json()["value"])
    (case,) = desk.runtime.store.list_cases()
    assert (case.kind, case.reporter, case.surface) == (CaseKind.REQUEST, "bob", "teams")
    assert case.plan is not None
    assert case.plan.runbook == "onboarding"
    again = await _post(teams, sent)  # the same invoke delivered again
    assert again.json()["statusCode"] == 409
    assert len(desk.runtime.store.list_cases()) == 1
