"""The live estate end to end, on a real Prometheus: a deploy is reported (POST /api/changes, or GitHub's signed
``deployment_status`` webhook), the shop's 5xx share jumps, a person reports it in the console, triage names that
deploy from PromQL data, the rollback is approved and goes through Argo CD (a real local server speaking its API,
which redeploys the shop), the shop recovers, verification reads the recovery from Prometheus, the case is
resolved and the audit chain verifies."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from conftest import BAD, SERVICES, Stack, sibling
from shop import ARGO_TOKEN, ArgoApp, FakeArgoCd, fake_argocd

from actiondesk.adapters.catalog import parse_catalog
from actiondesk.adapters.live.signals import read_series
from actiondesk.adapters.prometheus import PrometheusMetrics
from actiondesk.adapters.store import SqlStore, make_engine, upgrade
from actiondesk.bot.auth import tokens
from actiondesk.bot.server.app import make_app
from actiondesk.bot.web.appkeys import WORKER
from actiondesk.bot.web.events import ChangeFeed
from actiondesk.bot.wiring.boot import serve_estate
from actiondesk.bot.wiring.root import Runtime, build_runtime, policy_from_settings
from actiondesk.core.access import ALL_SCOPES
from actiondesk.core.case import CaseStatus
from actiondesk.core.clock import SystemClock
from actiondesk.core.finding import FindingKind
from actiondesk.core.settings import Settings

CHANGES_TOKEN = "changes-live-token"
GITHUB_SECRET = "github-live-secret"
OLD = {
    "payment-gateway": "1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a",
    "checkout": "3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c",
}
NEW = {
    "payment-gateway": "9f3c2ab0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6",
    "checkout": "5be1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3",
}
CATALOG = """
services:
  payment-gateway:
    tier: 1
    environment: production
    aliases: [payments]
    description: Card payments for the shop
    owner: {team: payments, group: sre}
    argocd: {application: payment-gateway}
  checkout:
    tier: 1
    environment: production
    description: The shop's checkout
    owner: {team: web, group: sre}
    argocd: {application: checkout}
"""


@pytest.fixture(scope="module")
def argo(stack: Stack) -> Iterator[tuple[str, FakeArgoCd]]:
    """Argo CD, which deployed each shop's current version an hour ago."""
    with fake_argocd() as (url, argo):
        for name, shop in stack.shops.items():
            argo.apps[name] = ArgoApp(name, shop.url)
            argo.sync(name, OLD[name], shop.version, datetime.now(UTC) - timedelta(hours=1))
        yield url, argo


@pytest.fixture
def live(stack: Stack, argo: tuple[str, FakeArgoCd], tmp_path: Path) -> Iterator[tuple[Runtime, Settings]]:
    database_url = f"sqlite:///{tmp_path / 'live.db'}"
    catalog = tmp_path / "services.yaml"
    catalog.write_text(CATALOG)
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=database_url,
        estate="live",
        services_file=catalog,
        prometheus_url=stack.prometheus,
        prometheus_window="3s",  # the shop is scraped every second
        argocd_url=argo[0],
        pack_credentials={"argocd": ARGO_TOKEN},
        changes_token=CHANGES_TOKEN,
        github_webhook_secret=GITHUB_SECRET,
        triage_step_seconds=1,
        triage_lookback_minutes=5,
        triage_watch_seconds=20,
        verify_interval_seconds=0.5,
        verify_timeout_seconds=30,
    )
    upgrade(database_url)
    engine = make_engine(database_url)
    store = SqlStore(engine)
    clock = SystemClock()
    estate, _ = serve_estate(settings, store, clock)
    yield build_runtime(settings, store, estate, clock, policy_from_settings(settings)), settings
    engine.dispose()


def bearer(runtime: Runtime, person: str) -> dict[str, str]:
    _, text = tokens.create(runtime.store.access, runtime.directory, person, ALL_SCOPES, runtime.clock.now())
    return {"Authorization": f"Bearer {text}"}


def failing(stack: Stack, service: str) -> bool:
    """Prometheus shows the service's 5xx share well up for the last two seconds (an onset triage can confirm)."""
    values = stack.ratio(service)
    return len(values) >= 2 and min(values[-2:]) > 0.2


async def _report_and_fix(
    http, runtime: Runtime, stack: Stack, argo: FakeArgoCd, service: str, version: str, text: str
) -> None:
    """The part both tests share, from the moment the 5xx share is up: report, find, approve, roll back, verify."""
    await asyncio.to_thread(stack.wait_for, lambda: failing(stack, service), f"{service}'s 5xx share up")
    opened = await http.post("/api/cases", json={"text": text}, headers=bearer(runtime, "alice"))
    assert opened.status == 201, await opened.text()
    case_id = (await opened.json())["id"]
    await http.server.app[WORKER].idle()

    case = runtime.store.get_case(case_id)
    finding = case.finding
    assert finding is not None
    assert finding.kind is FindingKind.BAD_DEPLOY, finding.summary
    assert finding.culprit is not None
    assert (finding.culprit.service, finding.culprit.version) == (
        service,
        sorted(BAD & {"v2.5.0", "v3.1.0"})[0 if service == "payment-gateway" else 1],
    )
    assert NEW[service].startswith(finding.culprit.commit or "-")
    assert finding.culprit.previous_version == SERVICES[service]
    assert finding.signal == "error_rate"
    assert finding.peak is not None
    assert finding.peak > 0.2  # read from Prometheus, not invented
    assert case.status is CaseStatus.AWAITING_APPROVAL, case.status  # production: sre approves
    assert [s.call.action for s in case.plan.steps] == ["rollback_deployment"]

    (approval,) = runtime.store.approvals(case_id)
    decided = await http.post(
        f"/api/approvals/{approval.id}", json={"decision": "approve"}, headers=bearer(runtime, "bob")
    )
    assert decided.status == 200, await decided.text()
    await http.server.app[WORKER].idle()

    case = runtime.store.get_case(case_id)
    assert case.status is CaseStatus.RESOLVED, [(s.call.action, s.error) for s in case.plan.steps]
    assert argo.rollbacks[-1] == (service, 1)  # Argo CD's release of the version before
    assert stack.shops[service].version == SERVICES[service]
    verification = [e for e in runtime.store.audit(case_id) if e.kind.value == "verification"][-1]
    check = verification.payload["checks"][0]
    assert check["service"] == service
    assert check["ok"] is True
    assert check["current"] <= check["limit"] < 0.05  # the recovery as Prometheus reads it
    assert runtime.store.verify_audit().ok


async def test_a_deploy_posted_to_the_changes_api_is_found_rolled_back_through_argocd_and_verified(
    aiohttp_client, stack: Stack, argo: tuple[str, FakeArgoCd], live: tuple[Runtime, Settings]
) -> None:
    runtime, _ = live
    http = await aiohttp_client(make_app(runtime, ChangeFeed()))
    service = "payment-gateway"
    assert "v2.5.0" in BAD
    at = datetime.now(UTC)
    await asyncio.to_thread(argo[1].sync, service, NEW[service], "v2.5.0")  # the pipeline's Argo CD sync
    posted = await http.post(
        "/api/changes",
        json={
            "service": "payments",  # an alias
            "kind": "deploy",
            "version": "v2.5.0",
            "previous_version": "v2.4.1",
            "commit": NEW[service][:7],
            "at": at.isoformat(),
            "author": "dana",
        },
        headers={"Authorization": f"Bearer {CHANGES_TOKEN}"},
    )
    assert posted.status == 201, await posted.text()
    await _report_and_fix(
        http, runtime, stack, argo[1], service, "v2.5.0", "payments are failing with 500s since a minute"
    )


async def test_a_deploy_from_a_signed_github_webhook_is_found_and_fixed_and_a_bad_signature_gets_401(
    aiohttp_client, stack: Stack, argo: tuple[str, FakeArgoCd], live: tuple[Runtime, Settings]
) -> None:
    runtime, _ = live
    http = await aiohttp_client(make_app(runtime, ChangeFeed()))
    service = "checkout"
    at = datetime.now(UTC)
    await asyncio.to_thread(argo[1].sync, service, NEW[service], "v3.1.0")
    event = {
        "action": "created",
        "deployment_status": {
            "state": "success",
            "created_at": at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "creator": {"login": "erin"},
            "log_url": "https://github.com/example/checkout/actions/runs/42",
        },
        "deployment": {
            "id": 4242,
            "sha": NEW[service],
            "ref": "v3.1.0",
            "environment": "production",
            "payload": {"service": service, "version": "v3.1.0", "previous_version": "v3.0.2"},
            "creator": {"login": "erin"},
        },
        "repository": {"full_name": "example/checkout"},
    }
    raw = json.dumps(event).encode()
    good = "sha256=" + hmac.new(GITHUB_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    headers = {"X-GitHub-Event": "deployment_status", "Content-Type": "application/json"}
    forged = await http.post(
        "/webhooks/github", data=raw, headers={**headers, "X-Hub-Signature-256": "sha256=" + "0" * 64}
    )
    assert forged.status == 401
    assert runtime.store.recorded_changes(service=service) == []  # nothing stored from a bad signature
    signed = await http.post("/webhooks/github", data=raw, headers={**headers, "X-Hub-Signature-256": good})
    assert signed.status == 201, await signed.text()
    (stored,) = runtime.store.recorded_changes(service=service)
    assert (stored.source, stored.version, stored.commit) == ("github", "v3.1.0", NEW[service])
    await _report_and_fix(http, runtime, stack, argo[1], service, "v3.1.0", "checkout throws errors for everyone")


def test_the_default_kubernetes_queries_are_valid_promql_and_without_their_series_read_as_no_signal(stack: Stack):
    catalog = parse_catalog(
        "services:\n  web:\n    tier: 2\n    environment: production\n"
        "    kubernetes: {namespace: shop, deployment: web}\n",
        "services.yaml",
    )
    entry = catalog.entry("web")
    metrics = PrometheusMetrics(stack.prometheus)
    end = datetime.now(UTC)
    for signal in ("cpu", "restarts", "unready", "latency_p95"):
        series = read_series(metrics, entry, signal, "1m", end - timedelta(minutes=5), end, 15)
        assert series.points == (), signal  # Prometheus took the query (no bad_data) and has no such series


def test_serve_with_the_live_estate_takes_changes_for_the_catalogs_services(
    stack: Stack, argo: tuple[str, FakeArgoCd], tmp_path: Path
) -> None:
    """`actiondesk serve` as a process: ACTIONDESK_ESTATE=live builds the estate from the catalog (a change for a
    catalog service's alias is taken, one for a sandbox service is refused) and says so at start."""
    serverproc = sibling("serverproc", "bot")
    catalog = tmp_path / "services.yaml"
    catalog.write_text(CATALOG)
    env = serverproc.server_env(
        f"sqlite:///{tmp_path / 'serve.db'}",
        ACTIONDESK_ESTATE="live",
        ACTIONDESK_SERVICES_FILE=str(catalog),
        ACTIONDESK_PROMETHEUS_URL=stack.prometheus,
        ACTIONDESK_ARGOCD_URL=argo[0],
        ACTIONDESK_PACK_CREDENTIALS=json.dumps({"argocd": ARGO_TOKEN}),
        ACTIONDESK_CHANGES_TOKEN=CHANGES_TOKEN,
    )
    server = serverproc.ServerProcess.start(env, tmp_path)
    try:
        headers = {"Authorization": f"Bearer {CHANGES_TOKEN}"}
        taken = httpx.post(
            f"{server.url}/api/changes",
            json={"service": "payments", "kind": "deploy", "version": "v2.4.1"},
            headers=headers,
            timeout=10,
        )
        assert taken.status_code == 201, taken.text
        assert taken.json()["change"]["service"] == "payment-gateway"
        refused = httpx.post(
            f"{server.url}/api/changes", json={"service": "search", "kind": "deploy", "version": "v1"}, headers=headers
        )
        assert refused.status_code == 422  # a sandbox service is not in the live estate
        assert any("live estate: 2 services" in line for line in server.output), "".join(server.output)
    finally:
        server.stop()
