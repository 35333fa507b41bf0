"""`actiondesk outbox status|drain|retry`: the outbox (ticket-mirror writes and pages) from the command line."""

from __future__ import annotations

import json
import os
import socket
from typing import Annotated, Any

import typer

from actiondesk.core.errors import ActionDeskError
from actiondesk.core.settings import Settings

outbox_app = typer.Typer(
    help="The outbox: ticket mirroring to ServiceNow / JSM, pages to PagerDuty / Opsgenie.", no_args_is_help=True
)


def _settings() -> Settings:
    from actiondesk.bot.cli.support import load_settings as settings

    return settings()


def _fail(exc: ActionDeskError) -> typer.Exit:
    typer.echo(f"error: {exc}", err=True)
    return typer.Exit(2)


def status_report(settings: Settings) -> dict[str, Any]:
    from actiondesk.bot.wiring.stores import open_store
    from actiondesk.bot.wiring.tickets import pager_names
    from actiondesk.core.tickets import OutboxStatus

    outbox = open_store(settings, migrate=False).outbox
    enabled = [
        n for n, url in (("servicenow", settings.servicenow_instance_url), ("jsm", settings.jsm_base_url)) if url
    ] + pager_names(settings)

    def shown(row: Any) -> dict[str, Any]:
        return {
            "id": row.id,
            "system": row.system,
            "case_id": row.case_id,
            "kind": row.update.kind.value,
            "attempts": row.attempts,
            "created_at": row.created_at.isoformat(),
            "next_attempt_at": row.next_attempt_at.isoformat(),
            "error": row.last_error,
        }

    return {
        "enabled": enabled,
        "counts": outbox.counts(),
        "pending": [shown(r) for r in outbox.rows(OutboxStatus.PENDING, limit=50)],
        "dead": [shown(r) for r in outbox.rows(OutboxStatus.DEAD, limit=200)],
    }


@outbox_app.command("status")
def status(as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False) -> None:
    """Queued, delivered and dead-lettered ticket writes, per system; exit 1 when any is dead."""
    try:
        report = status_report(_settings())
    except ActionDeskError as exc:
        raise _fail(exc) from None
    if as_json:
        typer.echo(json.dumps(report, indent=2))
    else:
        typer.echo("ticket systems and pagers on: " + (", ".join(report["enabled"]) or "none"))
        for system, counts in sorted(report["counts"].items()):
            shown = ", ".join(f"{status} {n}" for status, n in sorted(counts.items()))
            typer.echo(f"{system}: {shown}")
        for row in report["dead"]:
            typer.echo(f"dead {row['id']}: case {row['case_id']} {row['system']} {row['kind']}: {row['error']}")
    raise typer.Exit(1 if report["dead"] else 0)


@outbox_app.command("drain")
def drain(
    timeout: Annotated[float, typer.Option(help="Give up after this many seconds.")] = 60.0,
) -> None:
    """Deliver what is pending now; exit 1 if anything is still pending when the time is up."""
    from actiondesk.bot.jobs.mirroring import outbox_worker
    from actiondesk.bot.wiring.stores import open_store
    from actiondesk.core.clock import SystemClock

    settings = _settings()
    try:
        store = open_store(settings, migrate=False)
        worker = outbox_worker(settings, store, SystemClock(), f"{socket.gethostname()}:{os.getpid()}:drain")
        if not worker.systems:
            typer.echo(
                "no ticket system or pager is on (set SERVICENOW_INSTANCE_URL, JSM_BASE_URL, "
                "ACTIONDESK_PAGERDUTY_ROUTING_KEY or ACTIONDESK_OPSGENIE_API_KEY)"
            )
            raise typer.Exit(0)
        left = worker.drain(timeout)
    except ActionDeskError as exc:
        raise _fail(exc) from None
    dead = store.outbox.counts()
    dead_rows = sum(c.get("dead", 0) for c in dead.values())
    typer.echo(f"drained: {left} still pending, {dead_rows} dead")
    raise typer.Exit(1 if left else 0)


@outbox_app.command("retry")
def retry(row_id: Annotated[int, typer.Argument(help="The dead letter's id (see `outbox status`).")]) -> None:
    """Put a dead letter back in the queue; it is delivered in its ticket's order by the next pass."""
    from actiondesk.bot.wiring.stores import open_store
    from actiondesk.core.clock import SystemClock

    try:
        row = open_store(_settings(), migrate=False).outbox.requeue(row_id, SystemClock().now())
    except ActionDeskError as exc:
        raise _fail(exc) from None
    typer.echo(f"outbox row {row.id} ({row.system}, case {row.case_id}) is queued again")
