"""The surfaces (the console, Slack, Teams, the webhooks, the reports they show) are handed the front desk and
narrow ports, never the runtime or the store: checked on the import graph, on the source, and on what a built
server actually holds under the surfaces' keys. The ports themselves are tested on the real store."""

from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grimp
import pytest

from actiondesk.adapters.sandbox import SandboxEstate, default_estate
from actiondesk.adapters.store import SqlStore, StoreBlobs, StoreReports
from actiondesk.agents.changes import ChangeDesk
from actiondesk.bot.server.app import make_app
from actiondesk.bot.web.appkeys import BLOBS, CHANGES, CLOCK, FRONT, REPORTS
from actiondesk.bot.web.events import ChangeFeed
from actiondesk.bot.wiring.root import Runtime, build_runtime, policy_from_settings
from actiondesk.core.audit import AuditKind
from actiondesk.core.catalog import ChangeEvent
from actiondesk.core.clock import SystemClock
from actiondesk.core.errors import UnknownServiceError
from actiondesk.core.redact import REDACTED
from actiondesk.core.settings import Settings
from actiondesk.core.tickets import OutboxDraft, TicketDraft, TicketUpdate, UpdateKind

PACKAGE = Path(__file__).resolve().parents[2] / "actiondesk"
SURFACES = ("slack", "teams", "console", "webhooks", "reports")
# What only the server's own wiring may import: the runtime, its keys, and the scheduler (which holds the runtime).
SERVER_ONLY = ("actiondesk.bot.wiring.root", "actiondesk.bot.web.serverkeys", "actiondesk.bot.jobs.scheduler")
FORBIDDEN_NAMES = frozenset({"Runtime", "RUNTIME", "SqlStore", "SCHEDULER"})


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("actiondesk")


@pytest.mark.parametrize("surface", SURFACES)
def test_no_surface_imports_the_runtime_directly_or_through_another_module(
    graph: grimp.ImportGraph, surface: str
) -> None:
    for forbidden in SERVER_ONLY:
        chains = graph.find_shortest_chains(importer=f"actiondesk.bot.{surface}", imported=forbidden)
        assert not chains, f"bot.{surface} reaches {forbidden}: {sorted(chains)}"


def test_the_import_check_sees_a_module_that_does_import_the_runtime(graph: grimp.ImportGraph) -> None:
    """The check above is not vacuous: the server itself reaches the runtime, and the graph says so."""
    assert graph.find_shortest_chains(importer="actiondesk.bot.server", imported="actiondesk.bot.wiring.root")


def _surface_modules() -> list[Path]:
    return sorted(p for surface in SURFACES for p in (PACKAGE / "bot" / surface).rglob("*.py"))


@pytest.mark.parametrize("path", _surface_modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_surface_module_names_the_runtime_the_store_or_reaches_into_a_store(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    named = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    named |= {alias.asname or alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
              for alias in node.names}  # fmt: skip
    assert not named & FORBIDDEN_NAMES, f"{path.name} names {sorted(named & FORBIDDEN_NAMES)}"
    attributes = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    assert not attributes & {"store", "_store", "runtime"}, f"{path.name} reaches into {attributes & {'store'}}"
    modules = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not modules & {*SERVER_ONLY, "actiondesk.adapters.store"}, f"{path.name} imports {modules}"


def _runtime(store: SqlStore, database_url: str) -> Runtime:
    settings = Settings(_env_file=None, database_url=database_url)  # type: ignore[call-arg]
    clock = SystemClock()
    estate = SandboxEstate(default_estate(clock.now()), clock)
    return build_runtime(settings, store, estate, clock, policy_from_settings(settings))


def test_a_built_server_hands_the_surfaces_narrow_views_not_the_store(store: SqlStore, database_url: str) -> None:
    runtime = _runtime(store, database_url)
    app = make_app(runtime, ChangeFeed())
    assert app[FRONT] is runtime.front
    assert app[CLOCK] is runtime.clock
    reports, blobs, changes = app[REPORTS], app[BLOBS], app[CHANGES]
    assert isinstance(reports, StoreReports)
    assert isinstance(blobs, StoreBlobs)
    assert isinstance(changes, ChangeDesk)
    writes = ("transaction", "enqueue", "claim_cases", "claim_lease", "outbox", "access")
    for view, also in ((reports, ("put_blob", "record_change")), (blobs, ("audit",)), (changes, ("put_blob",))):
        assert not isinstance(view, SqlStore)
        for name in (*writes, *also):
            assert not hasattr(view, name), f"{type(view).__name__} lets a surface reach {name}"


def test_the_reporting_view_reads_what_the_store_holds(store: SqlStore, database_url: str) -> None:
    runtime = _runtime(store, database_url)
    case = runtime.front.open_case("checkout is throwing 500s", "alice", surface="console")
    now = runtime.clock.now()
    with store.transaction() as uow:
        draft = TicketDraft(case_id=case.id, title="t", description="d")
        uow.enqueue(
            [OutboxDraft(system="servicenow", ticket=draft, update=TicketUpdate(kind=UpdateKind.NOTE, text="n"))], now
        )
    reports = runtime.reports
    opened = reports.cases_opened(now - timedelta(minutes=5), now + timedelta(minutes=5))
    assert [c.id for c in opened] == [case.id]
    assert reports.outbox_counts() == {"servicenow": {"pending": 1}}
    assert [e.kind for e in reports.audit_of_kind(AuditKind.CASE_OPENED, now - timedelta(minutes=5))] == [
        AuditKind.CASE_OPENED
    ]
    everything, _ = reports.metric_figures(now - timedelta(days=1))
    assert everything.count("cases", "open") == 1


def test_the_change_intake_names_services_scrubs_secrets_and_stores_once(store: SqlStore, database_url: str) -> None:
    runtime = _runtime(store, database_url)
    intake = runtime.changes
    gateway = next(s for s in runtime.estate.services() if s.name == "payment-gateway")
    assert intake.service("payment-gateway") == "payment-gateway"
    assert gateway.aliases, "the default estate gives payment-gateway an alias"
    assert intake.service(gateway.aliases[0]) == "payment-gateway"
    with pytest.raises(UnknownServiceError, match=r"'no-such-service' is not in the estate \(known: .*payment-gateway"):
        intake.service("no-such-service")

    event = ChangeEvent(
        id="chg-secret",
        service="payment-gateway",
        kind="config_change",
        at=datetime.now(UTC),
        source="api",
        key="DB_PASSWORD",
        value="hunter2",
        previous_value="letmein",
        author="ci token=abc123",
    )
    stored, created = intake.record(event, "changes-api")
    assert created
    assert (stored.value, stored.previous_value) == (REDACTED, REDACTED)
    assert "abc123" not in stored.author
    again, created_again = intake.record(event, "changes-api")
    assert not created_again
    assert again.id == stored.id
    (listed,) = runtime.reports.recorded_changes(service="payment-gateway")
    assert listed.value == REDACTED
    audited = [e for e in store.audit() if e.kind is AuditKind.CHANGE_RECORDED]
    assert [e.actor for e in audited] == ["changes-api"], "audited once, under the door it came by"


def test_the_front_desk_gives_a_case_trail_after_a_point_its_agent_and_its_owners(
    store: SqlStore, database_url: str
) -> None:
    runtime = _runtime(store, database_url)
    front = runtime.front
    case = front.open_case("checkout is throwing 500s", "alice", surface="console")
    trail = front.audit(case.id)
    assert trail
    assert front.audit(case.id, trail[0].seq) == trail[1:]
    assert front.audit(case.id, trail[-1].seq) == []
    assert front.agent == runtime.settings.agent_identity
    assert runtime.takeover is not None
    assert front.owners is runtime.takeover.owners
