"""The outbox's jobs for one runtime: `serve` delivers ticket writes and pages and reads comments back; `scenario
run` delivers what it wrote before it reports; the worker's notices in the case thread (a dead letter, a note)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from actiondesk.adapters.store import SqlStore
from actiondesk.bot.jobs.comments import CommentPoller
from actiondesk.bot.jobs.outbox import OutboxWorker
from actiondesk.bot.wiring.root import Runtime
from actiondesk.bot.wiring.tickets import NAMES, PAGERS, pagers, ticket_systems
from actiondesk.core.audit_payloads import Message
from actiondesk.core.clock import SystemClock
from actiondesk.core.ports import Clock, Pager, TicketSystem
from actiondesk.core.redact import redact_text
from actiondesk.core.settings import Settings
from actiondesk.core.tickets import OutboxRow


def start_mirroring(
    runtime: Runtime, owner: str, kick: Callable[[str], None], notify: Callable[[str], None] | None
) -> list[asyncio.Task[None]]:
    """`serve`'s outbox jobs: delivery every second when a ticket system or a pager is on, and, with a ticket
    system, comments read back every ACTIONDESK_TICKET_POLL_SECONDS."""
    if not runtime.tickets and not runtime.pagers:
        return []
    settings = runtime.settings
    worker = outbox_worker(settings, runtime.store, SystemClock(), owner, notify, runtime.tickets, runtime.pagers)
    loop = asyncio.get_running_loop()
    tasks = [loop.create_task(worker.run(1.0), name="outbox-delivery")]
    if runtime.tickets:
        poller = CommentPoller(runtime.store, runtime.tickets, runtime.loop)
        tasks.append(loop.create_task(poller.run(settings.ticket_poll_seconds, owner, kick), name="ticket-comments"))
    return tasks


def deliver_before_exit(runtime: Runtime, owner: str) -> int:
    """What `scenario run` does before it reports: deliver, waiting at most ACTIONDESK_OUTBOX_DRAIN_SECONDS;
    returns how many writes are still pending."""
    if not runtime.tickets and not runtime.pagers:
        return 0
    worker = outbox_worker(runtime.settings, runtime.store, SystemClock(), owner, None, runtime.tickets, runtime.pagers)
    return worker.drain(runtime.settings.outbox_drain_seconds)


def dead_letter_notice(
    store: SqlStore, clock: Clock, agent: str, notify: Callable[[str], None] | None
) -> Callable[[OutboxRow, str], None]:
    """Say in the case thread that a ticket write or a page was rejected (written straight to the audit trail: a
    notice about mirroring is itself never mirrored)."""

    say = thread_notice(store, clock, agent, notify)

    def notice(row: OutboxRow, error: str) -> None:
        what = "this case's page" if row.system in PAGERS else "an update of this case's ticket"
        say(
            row,
            f"{NAMES.get(row.system, row.system)} rejected {what} ({error}). "
            f"It is kept as dead letter {row.id}: fix the cause, then run `actiondesk outbox retry {row.id}`.",
        )

    return notice


def thread_notice(
    store: SqlStore, clock: Clock, agent: str, notify: Callable[[str], None] | None
) -> Callable[[OutboxRow, str], None]:
    """Say something about a ticket write in the case thread (straight to the audit trail: never mirrored)."""

    def notice(row: OutboxRow, said: str) -> None:
        text = redact_text(said)
        notice = Message(text=text, outbox_id=row.id, system=row.system)
        with store.transaction() as uow:
            uow.append_audit(notice.draft(row.case_id, agent, clock.now()))
        if notify is not None:
            notify(row.case_id)

    return notice


def outbox_worker(
    settings: Settings,
    store: SqlStore,
    clock: Clock,
    owner: str,
    notify: Callable[[str], None] | None = None,
    systems: dict[str, TicketSystem] | None = None,
    paging: dict[str, Pager] | None = None,
) -> OutboxWorker:
    return OutboxWorker(
        store.outbox,
        ticket_systems(settings) if systems is None else systems,
        clock,
        owner=owner,
        on_dead=dead_letter_notice(store, clock, settings.agent_identity, notify),
        on_note=thread_notice(store, clock, settings.agent_identity, notify),
        pagers=pagers(settings) if paging is None else paging,
    )
