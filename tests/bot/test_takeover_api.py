"""Take it and the post-mortem over the console API, signed in with an API token: the person who takes a case
is the token's, never a body field; each refusal is named (no credential, a user field, a read-only token, a
wrong id, no post-mortem yet, a bad format)."""

from __future__ import annotations

from authn import bearer

from actiondesk.adapters.sandbox import DEFAULT_START, DeployEvent, FaultEvent, SandboxEstate, default_estate
from actiondesk.adapters.store import SqlStore
from actiondesk.bot.server.app import make_app
from actiondesk.bot.web.events import ChangeFeed
from actiondesk.bot.wiring.root import Runtime, build_runtime, policy_from_settings
from actiondesk.core.access import Scope
from actiondesk.core.approval import ApprovalStatus
from actiondesk.core.audit import AuditKind
from actiondesk.core.case import Case, CaseStatus
from actiondesk.core.clock import SimulatedClock
from actiondesk.core.settings import Settings


def _runtime(store: SqlStore, database_url: str) -> tuple[Runtime, SandboxEstate, SimulatedClock]:
    settings = Settings(_env_file=None, database_url=database_url)  # type: ignore[call-arg]
    clock = SimulatedClock(DEFAULT_START)
    estate = SandboxEstate(default_estate(clock.now()), clock)
    return build_runtime(settings, store, estate, clock, policy_from_settings(settings)), estate, clock


def _reported(runtime: Runtime) -> Case:
    case = runtime.loop.open_case("the payment gateway is throwing 500s", "alice")
    return runtime.loop.run(case.id)


def _kinds(runtime: Runtime, case_id: str, kind: AuditKind) -> list[dict]:
    return [e.payload for e in runtime.store.audit(case_id) if e.kind is kind]


async def test_take_it_is_the_token_owners_and_refuses_a_user_field(aiohttp_client, store, database_url):
    runtime, estate, clock = _runtime(store, database_url)
    estate.apply(FaultEvent(service="payment-gateway", kind="error_rate", value=0.35))  # no deploy to blame
    clock.advance(120)
    case = _reported(runtime)
    assert case.status is CaseStatus.ESCALATED
    http = await aiohttp_client(make_app(runtime, ChangeFeed()))
    assert (await http.post(f"/api/cases/{case.id}/take", json={})).status == 401

    grace = bearer(runtime, "grace")
    named = await http.post(f"/api/cases/{case.id}/take", json={"user": "carol"}, headers=grace)
    assert named.status == 400
    assert "signed in" in (await named.json())["error"]
    reader = bearer(runtime, "grace", frozenset({Scope.CASES_READ}))
    assert (await http.post(f"/api/cases/{case.id}/take", json={}, headers=reader)).status == 403
    assert (await http.post("/api/cases/C-none/take", json={}, headers=grace)).status == 404
    assert _kinds(runtime, case.id, AuditKind.PICKED_UP) == []

    clock.advance(240)
    taken = await http.post(f"/api/cases/{case.id}/take", json={}, headers=grace)
    assert taken.status == 200
    (picked,) = _kinds(runtime, case.id, AuditKind.PICKED_UP)
    assert (picked["by"], picked["how"], picked["after_seconds"]) == ("grace", "take", 240.0)
    detail = await (await http.get(f"/api/cases/{case.id}", headers=grace)).json()
    assert (detail["owner"]["team"], detail["owner"]["picked_up_by"]) == ("payments", "grace")

    none_yet = await http.get(f"/api/cases/{case.id}/postmortem", headers=grace)
    assert none_yet.status == 404
    assert "no post-mortem" in (await none_yet.json())["error"]


async def test_the_post_mortem_as_json_and_as_a_markdown_download(aiohttp_client, store, database_url):
    runtime, estate, clock = _runtime(store, database_url)
    estate.apply(DeployEvent(service="payment-gateway", version="v2.5.0", commit="9f3c2ab", author="dave"))
    clock.advance(60)
    estate.apply(FaultEvent(service="payment-gateway", kind="error_rate", value=0.35))
    clock.advance(60)
    case = _reported(runtime)
    (approval,) = runtime.store.approvals(case.id, ApprovalStatus.PENDING)
    runtime.approvals.decide(approval.id, "bob", True)
    assert runtime.loop.run(case.id).status is CaseStatus.RESOLVED

    http = await aiohttp_client(
        make_app(runtime, ChangeFeed()), headers=bearer(runtime, "alice", frozenset({Scope.CASES_READ}))
    )
    as_json = await http.get(f"/api/cases/{case.id}/postmortem")
    assert as_json.status == 200
    assert (await as_json.json())["root_cause"]["commit"] == "9f3c2ab"
    as_md = await http.get(f"/api/cases/{case.id}/postmortem", params={"format": "md"})
    assert as_md.status == 200
    assert as_md.content_type == "text/markdown"
    assert as_md.headers["Content-Disposition"] == f'attachment; filename="postmortem-{case.id}.md"'
    assert (await as_md.text()).startswith(f"# Post-mortem {case.id}")
    bad = await http.get(f"/api/cases/{case.id}/postmortem", params={"format": "pdf"})
    assert bad.status == 400
    assert (await http.get("/api/cases/C-none/postmortem")).status == 404
