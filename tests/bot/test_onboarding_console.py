"""The console's onboarding form and what a stopped request offers, over HTTP against the sandbox: every field
is checked before anything runs (each problem named next to its field, nothing opened), a valid form opens one
request case, and compensate / hand off answer for stopped requests only."""

from __future__ import annotations

from authn import bearer

from actiondesk.adapters.sandbox import SandboxEstate, default_estate
from actiondesk.adapters.store import SqlStore
from actiondesk.bot.server.app import make_app
from actiondesk.bot.web.appkeys import WORKER
from actiondesk.bot.web.events import ChangeFeed
from actiondesk.bot.wiring.root import build_runtime, policy_from_settings
from actiondesk.core.case import CaseStatus
from actiondesk.core.clock import SystemClock
from actiondesk.core.settings import Settings


async def _client(aiohttp_client, store: SqlStore, database_url: str):
    settings = Settings(_env_file=None, database_url=database_url, autonomy={"tier:3": 3})  # type: ignore[call-arg]
    clock = SystemClock()
    runtime = build_runtime(
        settings, store, SandboxEstate(default_estate(clock.now()), clock), clock, policy_from_settings(settings)
    )
    return await aiohttp_client(make_app(runtime, ChangeFeed()), headers=bearer(runtime, "bob")), runtime


async def test_a_form_with_bad_fields_names_each_and_opens_nothing(aiohttp_client, store, database_url):
    http, runtime = await _client(aiohttp_client, store, database_url)
    answer = await http.post(
        "/api/requests/onboarding",
        json={"name": "Jane", "role": "astronaut", "start": "2001-01-01", "manager": "nobody"},
    )
    assert answer.status == 400
    body = await answer.json()
    assert set(body["fields"]) == {"name", "role", "start", "manager"}
    assert "data-analyst" in body["fields"]["role"]
    assert runtime.store.list_cases() == []
    not_json = {"Content-Type": "application/json"}
    assert (await http.post("/api/requests/onboarding", data=b"not json", headers=not_json)).status == 400
    assert (await http.post("/api/requests/onboarding", json={"shoe_size": 9})).status == 400
    named = await http.post("/api/requests/onboarding", json={"user": "alice", "name": "Jane"})  # who asks: the token's
    assert named.status == 400
    assert "signed in" in (await named.json())["error"]


async def test_a_valid_form_opens_one_request_case_that_runs(aiohttp_client, store, database_url):
    http, runtime = await _client(aiohttp_client, store, database_url)
    roles = await (await http.get("/api/roles")).json()
    assert {r["name"] for r in roles} == {"data-analyst", "sales-rep", "sre"}
    answer = await http.post(
        "/api/requests/onboarding",
        json={"name": "Ann Lee", "role": "Sales Rep", "start": "today", "manager": "frank",
              "username": "annl"},
    )  # fmt: skip
    assert answer.status == 201
    case_id = (await answer.json())["id"]
    await http.server.app[WORKER].idle()  # the server drives the case it opened
    case = runtime.store.get_case(case_id)
    assert case.status is CaseStatus.RESOLVED
    assert case.plan is not None
    assert case.plan.runbook == "onboarding"
    assert [s.call.action for s in case.plan.steps][:1] == ["create_account"]
    assert "annl" in runtime.estate.current().groups["sales"]
    assert (await http.post(f"/api/cases/{case_id}/compensate", json={})).status == 201
    assert (await http.post(f"/api/cases/{case_id}/handoff", json={})).status == 409
    assert (await http.post("/api/cases/C-none/handoff", json={})).status == 404
