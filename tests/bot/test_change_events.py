"""Change events in through POST /api/changes, GitHub's deployment_status and Argo CD notifications; listed out
through GET /api/changes behind the sign-in. A real aiohttp server in-process over the real store."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import pytest
from authn import bearer

from actiondesk.adapters.sandbox import SandboxEstate, default_estate
from actiondesk.adapters.store import SqlStore
from actiondesk.bot.auth import sessions
from actiondesk.bot.server.app import make_app
from actiondesk.bot.web.events import ChangeFeed
from actiondesk.bot.wiring.root import build_runtime, policy_from_settings
from actiondesk.core.access import Via
from actiondesk.core.audit import AuditKind
from actiondesk.core.clock import SystemClock
from actiondesk.core.settings import Settings

TOKEN = "changes-token-0123456789abcdef"
SECRET = "github-secret-fedcba9876543210"
ARGO = "argocd-token-5555555555555555"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


async def _client(aiohttp_client, store: SqlStore, database_url: str, **settings_values):
    values = {
        "changes_token": TOKEN,
        "github_webhook_secret": SECRET,
        "argocd_webhook_token": ARGO,
        **settings_values,
    }
    settings = Settings(_env_file=None, database_url=database_url, **values)  # type: ignore[call-arg]
    clock = SystemClock()
    runtime = build_runtime(
        settings, store, SandboxEstate(default_estate(clock.now()), clock), clock, policy_from_settings(settings)
    )
    return await aiohttp_client(make_app(runtime, ChangeFeed())), runtime


def _audited(store: SqlStore) -> list:
    return [e for e in store.audit() if e.kind is AuditKind.CHANGE_RECORDED]


DEPLOY = {
    "id": "pipeline-981",
    "service": "payment-gateway",
    "kind": "deploy",
    "version": "v2.4.1",
    "previous_version": "v2.4.0",
    "commit": "9f8e7d6c",
    "author": "ci-bot",
    "url": "https://ci.example/runs/981",
}


async def test_a_deploy_is_stored_audited_and_a_resend_is_a_no_op(aiohttp_client, store, database_url):
    client, _ = await _client(aiohttp_client, store, database_url)
    first = await client.post("/api/changes", json=DEPLOY, headers=AUTH)
    assert first.status == 201, await first.text()
    body = await first.json()
    assert body["id"] == "pipeline-981"
    assert body["created"] is True
    again = await client.post("/api/changes", json={**DEPLOY, "version": "v9"}, headers=AUTH)
    assert again.status == 200
    assert (await again.json())["id"] == "pipeline-981"
    (stored,) = store.recorded_changes()
    assert (stored.version, stored.previous_version, stored.commit, stored.source) == (
        "v2.4.1",
        "v2.4.0",
        "9f8e7d6c",
        "api",
    )
    audited = _audited(store)
    assert len(audited) == 1
    assert audited[0].actor == "changes-api"
    assert audited[0].payload["change"] == "pipeline-981"
    assert TOKEN not in json.dumps([e.payload for e in store.audit()])


async def test_racing_resends_make_one_change(aiohttp_client, store, database_url):
    client, _ = await _client(aiohttp_client, store, database_url)
    answers = await asyncio.gather(*(client.post("/api/changes", json=DEPLOY, headers=AUTH) for _ in range(8)))
    assert sorted(a.status for a in answers) == [200] * 7 + [201]
    assert len(store.recorded_changes()) == 1
    assert len(_audited(store)) == 1


async def test_without_an_id_each_post_is_a_new_change_at_now(aiohttp_client, store, database_url):
    client, _ = await _client(aiohttp_client, store, database_url)
    before = datetime.now(UTC)
    body = {"service": "search", "kind": "scale", "replicas": 2, "previous_replicas": 6}
    ids = set()
    for _ in range(2):
        answer = await client.post("/api/changes", json=body, headers=AUTH)
        assert answer.status == 201
        ids.add((await answer.json())["id"])
    assert len(ids) == 2
    for change in store.recorded_changes():
        assert before - timedelta(seconds=1) <= change.at <= datetime.now(UTC)


async def test_an_alias_is_taken_for_its_service_and_at_is_read_as_rfc3339(aiohttp_client, store, database_url):
    client, runtime = await _client(aiohttp_client, store, database_url)
    alias = next(a for s in runtime.estate.services() for a in s.aliases if s.name == "payment-gateway")
    body = {"service": alias, "kind": "flag", "key": "new-checkout", "value": "on", "at": "2026-12-06T01:02:03+01:00"}
    answer = await client.post("/api/changes", json=body, headers=AUTH)
    assert answer.status == 201, await answer.text()
    (stored,) = store.recorded_changes()
    assert stored.service == "payment-gateway"
    assert stored.at == datetime(2026, 12, 6, 0, 2, 3, tzinfo=UTC)


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}])
async def test_no_or_a_wrong_token_is_401_and_nothing_is_stored(aiohttp_client, store, database_url, headers):
    client, _ = await _client(aiohttp_client, store, database_url)
    answer = await client.post("/api/changes", json=DEPLOY, headers=headers)
    assert answer.status == 401
    assert store.recorded_changes() == []


async def test_a_console_session_or_an_api_token_cannot_post_changes(aiohttp_client, store, database_url):
    client, runtime = await _client(aiohttp_client, store, database_url)
    cookie = sessions.start(runtime.store.access, "bob", None, Via.DEMO, runtime.clock.now(), 1)
    origin = {"Origin": str(client.make_url("")).rstrip("/")}
    by_session = await client.post("/api/changes", json=DEPLOY, headers=origin, cookies={sessions.COOKIE: cookie})
    assert by_session.status == 401
    by_api_token = await client.post("/api/changes", json=DEPLOY, headers=bearer(runtime, "bob"))
    assert by_api_token.status == 401
    assert store.recorded_changes() == []
    # the same session does read the list: GET stays behind the sign-in
    listed = await client.get("/api/changes", cookies={sessions.COOKIE: cookie})
    assert listed.status == 200


async def test_an_unset_token_turns_the_route_off_with_503(aiohttp_client, store, database_url):
    client, _ = await _client(aiohttp_client, store, database_url, changes_token=None)
    answer = await client.post("/api/changes", json=DEPLOY, headers=AUTH)
    assert answer.status == 503
    assert "ACTIONDESK_CHANGES_TOKEN" in (await answer.json())["error"]


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({**DEPLOY, "service": "no-such-service"}, "'no-such-service' is not in the estate"),
        ({**DEPLOY, "kind": "rollout"}, "kind"),
        ({"service": "search", "kind": "deploy"}, "a deploy change needs version"),
        ({"service": "search", "kind": "scale", "replicas": 3, "version": "v1"}, "a scale change has no version"),
        ({"service": "search", "kind": "config_change", "value": "x"}, "a config_change change needs key"),
        ({"service": "search", "kind": "scale", "replicas": -1}, "replicas"),
        ({**DEPLOY, "at": "2026-12-06 10:00"}, "at"),
        ({**DEPLOY, "at": "2026-12-06T10:00:00"}, "timezone"),
        ({**DEPLOY, "at": "2999-01-01T00:00:00Z"}, "in the future"),
        ({**DEPLOY, "user": "mallory"}, "user"),
        ({**DEPLOY, "url": "javascript:alert(1)"}, "url"),
        ({**DEPLOY, "id": "bad id with spaces"}, "id"),
    ],
)
async def test_a_bad_body_is_422_naming_the_problem(aiohttp_client, store, database_url, body, says):
    client, _ = await _client(aiohttp_client, store, database_url)
    answer = await client.post("/api/changes", json=body, headers=AUTH)
    assert answer.status == 422, await answer.text()
    assert says in (await answer.json())["error"]
    assert store.recorded_changes() == []


async def test_a_body_that_is_not_json_is_400_and_a_form_is_415(aiohttp_client, store, database_url):
    client, _ = await _client(aiohttp_client, store, database_url)
    answer = await client.post("/api/changes", data=b"{", headers={**AUTH, "Content-Type": "application/json"})
    assert answer.status == 400
    form = await client.post("/api/changes", data={"service": "x"}, headers=AUTH)
    assert form.status == 415


async def test_the_list_is_newest_first_narrowed_by_service_and_needs_a_sign_in(aiohttp_client, store, database_url):
    client, runtime = await _client(aiohttp_client, store, database_url)
    for i, service in enumerate(["search", "payment-gateway", "search"]):
        body = {"id": f"c{i}", "service": service, "kind": "deploy", "version": f"v{i}"}
        body["at"] = (datetime(2026, 12, 6, 0, 0, tzinfo=UTC) + timedelta(minutes=i)).isoformat()
        assert (await client.post("/api/changes", json=body, headers=AUTH)).status == 201
    assert (await client.get("/api/changes")).status == 401
    reader = bearer(runtime, "bob")
    listed = await (await client.get("/api/changes", headers=reader)).json()
    assert [c["id"] for c in listed] == ["c2", "c1", "c0"]
    assert listed[0]["version"] == "v2"
    only = await (await client.get("/api/changes?service=search&limit=1", headers=reader)).json()
    assert [c["id"] for c in only] == ["c2"]
    assert (await client.get("/api/changes?limit=0", headers=reader)).status == 400


# -- GitHub ------------------------------------------------------------------------------------------------------


def github_body(state: str = "success", deployment_id: int = 4242, **deployment: object) -> dict:
    return {
        "action": "created",
        "deployment_status": {
            "id": 777,
            "state": state,
            "creator": {"login": "octocat"},
            "log_url": "https://github.com/shop/payment-gateway/actions/runs/1",
            "created_at": "2026-12-06T00:30:00Z",
        },
        "deployment": {
            "id": deployment_id,
            "sha": "a1b2c3d4e5f6a7b8c9d0a1b2c3d4e5f6a7b8c9d0",
            "ref": "v3.1.0",
            "environment": "production",
            "payload": {},
            "creator": {"login": "release-bot"},
            **deployment,
        },
        "repository": {"full_name": "shop/payment-gateway", "name": "payment-gateway"},
    }


def signed(body: dict | bytes, event: str = "deployment_status", secret: str = SECRET) -> tuple[bytes, dict]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    digest = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    headers = {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
        "X-Hub-Signature-256": f"sha256={digest}",
        "Content-Type": "application/json",
    }
    return raw, headers


async def test_a_signed_successful_deployment_status_is_a_deploy_once(aiohttp_client, store, database_url):
    client, _ = await _client(aiohttp_client, store, database_url)
    raw, headers = signed(github_body())
    first = await client.post("/webhooks/github", data=raw, headers=headers)
    assert first.status == 201, await first.text()
    assert (await first.json())["id"] == "github:shop/payment-gateway:4242"
    assert (await client.post("/webhooks/github", data=raw, headers=headers)).status == 200
    (change,) = store.recorded_changes()
    assert change.service == "payment-gateway"
    assert change.kind == "deploy"
    assert change.source == "github"
    assert change.version == "v3.1.0"
    assert change.commit == "a1b2c3d4e5f6a7b8c9d0a1b2c3d4e5f6a7b8c9d0"
    assert change.author == "octocat"
    assert change.at == datetime(2026, 12, 6, 0, 30, tzinfo=UTC)
    assert change.url.endswith("/actions/runs/1")
    assert [e.actor for e in _audited(store)] == ["github"]


@pytest.mark.parametrize("how", ["missing", "wrong-secret", "tampered", "not-sha256"])
async def test_a_bad_github_signature_is_401(aiohttp_client, store, database_url, how):
    client, _ = await _client(aiohttp_client, store, database_url)
    raw, headers = signed(github_body(), secret="another" if how == "wrong-secret" else SECRET)
    if how == "missing":
        del headers["X-Hub-Signature-256"]
    if how == "tampered":
        raw = raw.replace(b"4242", b"4243")
    if how == "not-sha256":
        headers["X-Hub-Signature-256"] = headers["X-Hub-Signature-256"].replace("sha256=", "sha1=")
    answer = await client.post("/webhooks/github", data=raw, headers=headers)
    assert answer.status == 401
    assert store.recorded_changes() == []


async def test_ping_is_answered_and_other_events_and_states_are_ignored(aiohttp_client, store, database_url):
    client, _ = await _client(aiohttp_client, store, database_url)
    raw, headers = signed({"zen": "Keep it logically awesome.", "hook_id": 1}, event="ping")
    ping = await client.post("/webhooks/github", data=raw, headers=headers)
    assert ping.status == 200
    assert await ping.json() == {"pong": True}
    raw, headers = signed(github_body(), event="push")
    assert (await client.post("/webhooks/github", data=raw, headers=headers)).status == 202
    for state in ("pending", "in_progress", "failure", "error"):
        raw, headers = signed(github_body(state))
        answer = await client.post("/webhooks/github", data=raw, headers=headers)
        assert answer.status == 202
        assert state in (await answer.json())["ignored"]
    assert store.recorded_changes() == []


async def test_the_github_service_comes_from_payload_then_mapping_then_repository(aiohttp_client, store, database_url):
    mapping = {"shop/monolith@production": "search", "shop/monolith": "payment-gateway"}
    client, _ = await _client(aiohttp_client, store, database_url, github_services=mapping)
    cases = [
        (github_body(deployment_id=1, payload={"service": "search", "version": "9.9"}), "search", "9.9"),
        (github_body(deployment_id=2, payload=json.dumps({"service": "search"})), "search", "v3.1.0"),
    ]
    mono = github_body(deployment_id=3)
    mono["repository"] = {"full_name": "shop/monolith", "name": "monolith"}
    cases.append((mono, "search", "v3.1.0"))
    staging = github_body(deployment_id=4, environment="staging")
    staging["repository"] = {"full_name": "shop/monolith", "name": "monolith"}
    cases.append((staging, "payment-gateway", "v3.1.0"))
    for body, service, version in cases:
        raw, headers = signed(body)
        answer = await client.post("/webhooks/github", data=raw, headers=headers)
        assert answer.status == 201, await answer.text()
        change = (await answer.json())["change"]
        assert (change["service"], change["version"]) == (service, version)
    unknown = github_body(deployment_id=5)
    unknown["repository"] = {"full_name": "shop/unmapped", "name": "unmapped"}
    raw, headers = signed(unknown)
    answer = await client.post("/webhooks/github", data=raw, headers=headers)
    assert answer.status == 422
    assert "'unmapped'" in (await answer.json())["error"]


async def test_the_github_webhook_is_off_without_its_secret(aiohttp_client, store, database_url):
    client, _ = await _client(aiohttp_client, store, database_url, github_webhook_secret=None)
    raw, headers = signed(github_body())
    assert (await client.post("/webhooks/github", data=raw, headers=headers)).status == 503


# -- Argo CD -----------------------------------------------------------------------------------------------------


ARGO_BODY = {
    "app": "payment-gateway",
    "phase": "Succeeded",
    "revision": "0123456789abcdef0123456789abcdef01234567",
    "startedAt": "2026-12-06T00:40:00Z",
    "finishedAt": "2026-12-06T00:41:00Z",
    "author": "admin",
    "url": "https://argocd.example/applications/payment-gateway",
}


async def test_a_succeeded_argocd_sync_is_a_deploy_of_its_revision_once(aiohttp_client, store, database_url):
    client, _ = await _client(aiohttp_client, store, database_url)
    headers = {"Authorization": f"Bearer {ARGO}"}
    first = await client.post("/webhooks/argocd", json=ARGO_BODY, headers=headers)
    assert first.status == 201, await first.text()
    assert (await client.post("/webhooks/argocd", json=ARGO_BODY, headers=headers)).status == 200
    (change,) = store.recorded_changes()
    assert (change.service, change.kind, change.source) == ("payment-gateway", "deploy", "argocd")
    assert change.version == change.commit == ARGO_BODY["revision"]
    assert change.at == datetime(2026, 12, 6, 0, 41, tzinfo=UTC)
    running = await client.post("/webhooks/argocd", json={**ARGO_BODY, "phase": "Running"}, headers=headers)
    assert running.status == 202
    other = {**ARGO_BODY, "app": "pgw-prod", "service": "payment-gateway", "startedAt": "2026-12-06T00:50:00Z"}
    assert (await client.post("/webhooks/argocd", json=other, headers=headers)).status == 201
    assert len(store.recorded_changes()) == 2
    assert [e.actor for e in _audited(store)] == ["argocd", "argocd"]


async def test_argocd_without_or_with_a_wrong_token_is_401(aiohttp_client, store, database_url):
    client, _ = await _client(aiohttp_client, store, database_url)
    assert (await client.post("/webhooks/argocd", json=ARGO_BODY)).status == 401
    assert (await client.post("/webhooks/argocd", json=ARGO_BODY, headers=AUTH)).status == 401
    unknown = await client.post(
        "/webhooks/argocd", json={**ARGO_BODY, "app": "ghost"}, headers={"Authorization": f"Bearer {ARGO}"}
    )
    assert unknown.status == 422
    assert store.recorded_changes() == []


async def test_a_secret_config_value_is_never_stored_only_that_it_changed(aiohttp_client, store, database_url):
    client, _ = await _client(aiohttp_client, store, database_url)
    body = {
        "id": "rotate-1",
        "service": "payment-gateway",
        "kind": "config_change",
        "key": "DB_PASSWORD",
        "value": "hunter2-new",
        "previous_value": "hunter2-old",
        "url": "https://ci.example/run?token=abcdef123456",
    }
    answer = await client.post("/api/changes", json=body, headers=AUTH)
    assert answer.status == 201
    plain = {"id": "pool-1", "service": "payment-gateway", "kind": "config_change", "key": "pool_size", "value": "50"}
    assert (await client.post("/api/changes", json=plain, headers=AUTH)).status == 201
    secret, pool = store.recorded_changes()
    assert (secret.key, secret.value, secret.previous_value) == ("DB_PASSWORD", "[REDACTED]", "[REDACTED]")
    assert "abcdef123456" not in secret.url
    assert pool.value == "50"
    everything = json.dumps([e.payload for e in store.audit()]) + json.dumps(await answer.json())
    assert "hunter2" not in everything
    assert "abcdef123456" not in everything
