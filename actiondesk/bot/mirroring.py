"""The outbox's jobs for one runtime: `serve` delivers ticket writes and pages and reads comments back; `scenario
run` delivers what it wrote before it reports."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from actiondesk.bot.app import Runtime
from actiondesk.bot.outbox_poll import CommentPoller
from actiondesk.bot.outbox_setup import outbox_worker
from actiondesk.core.clock import SystemClock


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
