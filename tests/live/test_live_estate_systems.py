"""The live estate against each system's API, without Prometheus: Kubernetes rollout history and undo, Argo CD
history, Loki lines, a rollback asked of a GitHub Actions workflow (validated against its OpenAPI document before
it is sent), and what an outage of each does: a clear error naming the system, never a made-up answer."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from conftest import free_port_url, sibling

from actiondesk.actions.declarative import builtin_pack_files, read_pack_file
from actiondesk.adapters.argocd import ArgoCd
from actiondesk.adapters.catalog import parse_catalog
from actiondesk.adapters.kubernetes import KubernetesCluster
from actiondesk.adapters.live import LiveEstate, LiveSystems
from actiondesk.adapters.loki import LokiLogs
from actiondesk.adapters.openapi import Document, OpenApiOperations
from actiondesk.adapters.prometheus import PrometheusMetrics
from actiondesk.adapters.store import SqlStore, make_engine, upgrade
from actiondesk.bot.wiring.boot import serve_estate
from actiondesk.bot.wiring.root import build_runtime, policy_from_settings
from actiondesk.core.case import CaseStatus
from actiondesk.core.catalog import ChangeEvent
from actiondesk.core.clock import SystemClock
from actiondesk.core.errors import ActionFailedError, ConfigurationError, InvalidParametersError
from actiondesk.core.finding import FindingKind
from actiondesk.core.settings import Settings

k8sfake = sibling("k8sfake", "adapters/kubernetes")
lokifake = sibling("lokifake", "adapters/loki")

CATALOG = """
services:
  web:
    tier: 2
    environment: production
    kubernetes: {namespace: shop, deployment: web}
  storefront:
    tier: 2
    environment: production
    cicd: {repository: example/storefront, workflow: rollback.yml, ref: main, version_input: version}
  checkout:
    tier: 1
    environment: production
    argocd: {application: checkout}
  ledger:
    tier: 3
    environment: staging
"""
NOW = datetime.now(UTC)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlStore]:
    url = f"sqlite:///{tmp_path / 'live.db'}"
    upgrade(url)
    engine = make_engine(url)
    yield SqlStore(engine)
    engine.dispose()


def estate(store: SqlStore, systems: LiveSystems, **kwargs: float) -> LiveEstate:
    catalog = parse_catalog(CATALOG, "services.yaml")
    return LiveEstate(lambda: catalog, store, systems, SystemClock(), window="1m", **kwargs)


def test_kubernetes_history_is_read_and_a_rollback_is_an_undo_to_the_revision_running_that_version(store):
    with k8sfake.fake_api_server() as (url, _cluster):
        live = estate(store, LiveSystems(cluster=KubernetesCluster.connect(url, k8sfake.TOKEN)))
        assert live.service("web").version == "1.1"  # the Deployment's image tag
        history = live.deployments("web")
        assert [d.version for d in history] == ["1.1", "1.0"]
        assert history[0].id.startswith("kubernetes:shop/web#")
        done = live.rollback("web", "1.0", reason="test")
        assert (done.kind, done.version) == ("rollback", "1.0")
        assert live.service("web").version == "1.0"
        assert live.replicas("web") == 3
        scaled = live.scale("web", 5, reason="test")
        assert scaled.detail == {"replicas": "5", "previous": "3"}
        pods = live.pods("web", NOW)
        assert pods.desired == 5
        with pytest.raises(ActionFailedError, match=r"no rollout revision running 9\.9"):
            live.rollback("web", "9.9", reason="never deployed")


def test_a_reported_deploy_and_the_clusters_record_of_it_are_one_deployment(store):
    with k8sfake.fake_api_server() as (url, _cluster):
        revisions = KubernetesCluster.connect(url, k8sfake.TOKEN).history("shop", "web")
        newest = max(revisions, key=lambda r: r.revision)
        assert newest.created_at is not None
        store.record_change(
            ChangeEvent(
                id="ci-1",
                service="web",
                kind="deploy",
                at=newest.created_at,
                version="1.1",
                previous_version="1.0",
                commit="abc1234",
                author="dana",
            )
        )
        live = estate(store, LiveSystems(cluster=KubernetesCluster.connect(url, k8sfake.TOKEN)))
        history = live.deployments("web")
        assert [(d.version, d.id) for d in history][:1] == [("1.1", "ci-1")]  # the event, which says more
        assert [d.version for d in history].count("1.1") == 1


def test_loki_lines_are_read_by_service_and_trace_with_their_level_from_the_line(store):
    with lokifake.fake_loki() as (url, loki):
        ns = int((NOW - timedelta(minutes=1)).timestamp() * 1e9)
        line = json.dumps(
            {"level": "error", "msg": "upstream orders-db answered 500", "trace_id": "t-1", "version": "v2"}
        )
        loki.push({"service": "checkout"}, ns, line)
        loki.push({"service": "checkout"}, ns + 1, "level=info msg=ok trace_id=t-2")
        live = estate(store, LiveSystems(log_search=LokiLogs(url)))
        errors = live.logs("checkout", NOW - timedelta(minutes=5), NOW, level="ERROR")
        assert [(ln.level, ln.message, ln.trace_id, ln.version) for ln in errors] == [
            ("ERROR", "upstream orders-db answered 500", "t-1", "v2")
        ]
        traced = live.logs("checkout", NOW - timedelta(minutes=5), NOW, trace_id="t-2")
        assert [(ln.level, ln.message) for ln in traced] == [("INFO", "ok")]
    assert estate(store, LiveSystems()).logs("checkout", NOW - timedelta(minutes=5), NOW) == []  # no Loki: no lines


class _GitHub:
    """GitHub's workflow_dispatch endpoint; a dispatch starts the pipeline, which reports its deploy back."""

    def __init__(self, store: SqlStore) -> None:
        self.dispatches: list[tuple[str, dict]] = []
        self.reports = True
        github = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                github.dispatches.append((self.path, body))
                if github.reports:  # the pipeline ran and told ActionDesk (POST /api/changes)
                    store.record_change(
                        ChangeEvent(
                            id=f"gh-{len(github.dispatches)}",
                            service="storefront",
                            kind="deploy",
                            at=datetime.now(UTC),
                            source="api",
                            version=body["inputs"]["version"],
                            commit="f00dfee",
                        )
                    )
                self.send_response(204)
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()


def _github_http(url: str) -> OpenApiOperations:
    path = next(p for p in builtin_pack_files() if p.name == "github-actions.yaml")
    _, document = read_pack_file(path)
    return OpenApiOperations({"github-actions": Document(spec=document, base_url=url, token="gh-token")})


def test_a_rollback_without_argocd_or_kubernetes_is_a_validated_workflow_dispatch_done_when_the_pipeline_reports(store):
    github = _GitHub(store)
    try:
        live = estate(store, LiveSystems(http=_github_http(github.url)), cicd_wait_seconds=10, cicd_poll_seconds=0.05)
        done = live.rollback("storefront", "v1.4.0", reason="bad deploy")
        assert github.dispatches == [
            (
                "/repos/example/storefront/actions/workflows/rollback.yml/dispatches",
                {"ref": "main", "inputs": {"version": "v1.4.0"}},
            )
        ]
        assert (done.kind, done.version, done.commit) == ("rollback", "v1.4.0", "f00dfee")
        assert live.service("storefront").version == "v1.4.0"

        with pytest.raises(InvalidParametersError, match="does not match the API"):
            live.rollback("storefront", "v" * 2000, reason="a version no workflow input takes")
        assert len(github.dispatches) == 1  # refused before it was sent

        github.reports = False
        slow = estate(store, LiveSystems(http=_github_http(github.url)), cicd_wait_seconds=0.2, cicd_poll_seconds=0.05)
        with pytest.raises(ActionFailedError, match=r"no deploy of v1\.3\.0 was reported within 0\.2 s"):
            slow.rollback("storefront", "v1.3.0", reason="bad deploy")
    finally:
        github.server.shutdown()
        github.server.server_close()


def test_a_service_with_nothing_to_roll_back_with_and_a_pipeline_without_its_pack_say_so(store):
    with pytest.raises(ActionFailedError, match="no Argo CD application, Kubernetes Deployment or CI/CD workflow"):
        estate(store, LiveSystems()).rollback("ledger", "v1", reason="x")
    with pytest.raises(ActionFailedError, match="github-actions pack is not configured"):
        estate(store, LiveSystems()).rollback("storefront", "v1", reason="x")


def test_outages_are_clear_errors_naming_the_system_and_never_an_answer(store):
    down = free_port_url()  # nothing listens there
    live = estate(
        store,
        LiveSystems(
            metrics=PrometheusMetrics(down),
            log_search=LokiLogs(down),
            cluster=KubernetesCluster.connect(down, "t"),
            releases=ArgoCd(down, "t"),
        ),
    )
    start = NOW - timedelta(minutes=5)
    with pytest.raises(
        ActionFailedError, match="could not read checkout's error_rate from Prometheus: Prometheus unreachable"
    ):
        live.error_rate("checkout", start, NOW, 15)
    with pytest.raises(ActionFailedError, match="could not read checkout's logs from Loki"):
        live.logs("checkout", start, NOW)
    with pytest.raises(ActionFailedError, match="could not read checkout's history from Argo CD"):
        live.deployments("checkout")
    with pytest.raises(ActionFailedError, match="could not read web's pods from Kubernetes"):
        live.pods("web", NOW)
    assert live.service("checkout").version == "unknown"  # a rollback's drift check and verification fail closed
    assert live.cpu("ledger", start, NOW, 15).points == ()  # no query and no Deployment: no signal, not an error
    with pytest.raises(ActionFailedError, match="could not read web's cpu"):  # its Deployment's default query
        live.cpu("web", start, NOW, 15)
    with pytest.raises(ActionFailedError, match="no system to read or set web's configuration keys"):
        live.config("web")
    with pytest.raises(ActionFailedError, match="needs Prometheus, which is not configured"):
        estate(store, LiveSystems()).error_rate("ledger", start, NOW, 15)


def test_with_prometheus_down_triage_escalates_for_lack_of_evidence_and_blames_nothing(store, tmp_path):
    catalog = tmp_path / "services.yaml"
    catalog.write_text(CATALOG)
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url="sqlite://",
        estate="live",
        services_file=catalog,
        prometheus_url=free_port_url(),
        triage_watch_seconds=300,
    )
    clock = SystemClock()
    store.record_change(
        ChangeEvent(id="d-1", service="checkout", kind="deploy", at=clock.now(), version="v9", commit="abcdef1")
    )
    sandbox, _ = serve_estate(settings, store, clock)
    runtime = build_runtime(settings, store, sandbox, clock, policy_from_settings(settings))
    case = runtime.loop.run(runtime.loop.open_case("checkout is throwing 500s", "alice").id)
    assert case.finding is not None
    assert case.finding.kind is FindingKind.NO_EVIDENCE
    assert case.finding.culprit is None  # a deploy just before is no reason to blame it without the signals
    assert "Prometheus unreachable" in case.finding.summary
    assert case.status is CaseStatus.ESCALATED  # at once: watching a signal that cannot be read tells nothing
    assert case.plan is None


def test_the_live_estate_needs_its_catalog_and_a_bad_catalog_stops_the_start_with_its_line(store, tmp_path):
    clock = SystemClock()
    settings = Settings(_env_file=None, database_url="sqlite://", estate="live")  # type: ignore[call-arg]
    sandbox, _ = serve_estate(settings, store, clock)
    with pytest.raises(ConfigurationError, match="ACTIONDESK_SERVICES_FILE"):
        build_runtime(settings, store, sandbox, clock, policy_from_settings(settings))
    bad = tmp_path / "services.yaml"
    bad.write_text("services:\n  web:\n    tier: one\n")
    settings = settings.model_copy(update={"services_file": bad})
    with pytest.raises(ConfigurationError, match=r"services\.yaml:3: services\.web\.tier"):
        build_runtime(settings, store, sandbox, clock, policy_from_settings(settings))
