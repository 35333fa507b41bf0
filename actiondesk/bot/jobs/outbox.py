"""The outbox delivery worker: sends each ticket's queued writes (and each case's pages) in order, exactly once.

For a row it claims (the claim counts the attempt before anything is sent) it finds the ticket: the stored
link, else the ticket whose correlation id is the case id, else a new one. A row on its second or later
attempt may already have arrived (the process died after the remote success, or a timeout hid it), so the
ticket is first searched for the row's marker. Then the write, then the row is marked done.

A ticket system that is unreachable, 5xx, 408, 409 or 429 leaves the row pending: the whole system pauses
for its Retry-After / X-RateLimit-Reset hint, or an exponential backoff, except a per-issue limit, which
holds only that ticket. A write the system rejects (any other 4xx) is dead after that one attempt, said in
the case thread, and waits for `actiondesk outbox retry ID`.

A pager's rows (PagerDuty, Opsgenie) are pages: a trigger or a resolve keyed by the case, which the pager
itself deduplicates, so a retry after a lost answer adds nothing. They wait out outages the same way.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta

from actiondesk.adapters.store.outbox import SqlOutbox
from actiondesk.core.errors import PageRejectedError, PageUnavailableError, TicketRejectedError, TicketUnavailableError
from actiondesk.core.paging import PageAction
from actiondesk.core.ports import Clock, Pager, TicketSystem
from actiondesk.core.tickets import OutboxRow, OutboxStatus, TicketRef, UpdateKind
from actiondesk.core.tracing import case_scope, span

log = logging.getLogger(__name__)

LEASE_SECONDS = 60.0
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def backoff(attempts: int, base: float, cap: float) -> float:
    """Exponential with full jitter on its upper half: base, 2·base, 4·base ... at most ``cap``."""
    ceiling = min(cap, base * 2.0 ** max(attempts - 1, 0))
    return ceiling / 2 + random.random() * ceiling / 2


class OutboxWorker:
    def __init__(
        self,
        outbox: SqlOutbox,
        systems: Mapping[str, TicketSystem],
        clock: Clock,
        *,
        owner: str,
        on_dead: Callable[[OutboxRow, str], None] | None = None,
        on_note: Callable[[OutboxRow, str], None] | None = None,
        base_delay: float = 2.0,
        max_delay: float = 600.0,
        pagers: Mapping[str, Pager] | None = None,
    ) -> None:
        self.outbox = outbox
        self.pagers = dict(pagers or {})
        self.systems: dict[str, TicketSystem | Pager] = {**systems, **self.pagers}
        self.clock = clock
        self.owner = owner
        self._on_dead = on_dead
        self._on_note = on_note
        self._base = base_delay
        self._cap = max_delay
        self.paused: dict[str, datetime] = {}

    def deliver_due(self) -> int:
        """One pass over the due rows; returns how many were finished (done or dead)."""
        now = self.clock.now()
        finished = 0
        active = [s for s in self.systems if self.paused.get(s, _EPOCH) <= now]
        if not active:
            return 0
        for row in self.outbox.heads(now, active):
            if self.paused.get(row.system, _EPOCH) > now:
                continue  # this pass already found the system down
            claimed = self.outbox.claim(row.id, self.owner, now, LEASE_SECONDS)
            if claimed is not None:
                with case_scope(claimed.case_id), span("outbox.deliver", {"actiondesk.ticket_system": row.system}):
                    finished += self._deliver(claimed)
        return finished

    def _deliver(self, row: OutboxRow) -> int:
        try:
            if row.system in self.pagers:
                self._page(self.pagers[row.system], row)
            else:
                said = self._write(self.systems[row.system], row)  # type: ignore[arg-type]
                if said is not None and self._on_note is not None:
                    self._on_note(row, said)
        except (TicketUnavailableError, PageUnavailableError) as exc:
            delay = exc.retry_after if exc.retry_after is not None else backoff(row.attempts, self._base, self._cap)
            until = self.clock.now() + timedelta(seconds=delay)
            if exc.whole_system:
                self.paused[row.system] = until
            self.outbox.later(row.id, until, str(exc))
            log.warning("case %s: %s write %d deferred %.1fs: %s", row.case_id, row.system, row.id, delay, exc)
            return 0
        except (TicketRejectedError, PageRejectedError) as exc:
            self.outbox.dead(row.id, str(exc))
            log.error("case %s: %s rejected outbox row %d: %s", row.case_id, row.system, row.id, exc)
            if self._on_dead is not None:
                self._on_dead(row, str(exc))
            return 1
        self.outbox.done(row.id, self.clock.now())
        return 1

    def _write(self, system: TicketSystem, row: OutboxRow) -> str | None:
        """The ticket write; what the case thread should hear about it, if anything."""
        ticket = self._ticket(system, row)
        if row.attempts > 1 and row.update.kind is not UpdateKind.ATTACH and system.has_entry(ticket, row.marker):
            log.info("case %s: outbox row %d had already reached %s", row.case_id, row.id, ticket.number)
            return None
        return self._apply(system, ticket, row)

    @staticmethod
    def _page(pager: Pager, row: OutboxRow) -> None:
        page = row.update.page
        if page is None:  # a pager row always carries its page; one without it cannot be sent
            raise PageRejectedError(f"outbox row {row.id} holds no page")
        if page.action is PageAction.TRIGGER:
            pager.trigger(page)
        else:
            pager.resolve(page)

    def _ticket(self, system: TicketSystem, row: OutboxRow) -> TicketRef:
        ticket = self.outbox.link(row.system, row.case_id)
        if ticket is None:
            ticket = system.find(row.case_id) or system.create(row.ticket)
            self.outbox.save_link(row.case_id, ticket, self.clock.now())
        return ticket

    def _apply(self, system: TicketSystem, ticket: TicketRef, row: OutboxRow) -> str | None:
        """Send the row's write; what the case thread should hear about it, if anything."""
        update = row.update
        text = f"{update.text}\n\n{row.marker}"
        match update.kind:
            case UpdateKind.NOTE:
                system.add_note(ticket, text, public=update.public)
            case UpdateKind.RESOLVE:
                return system.resolve(ticket, text)
            case UpdateKind.ESCALATE:
                system.escalate(ticket, text, update.group)
            case UpdateKind.ATTACH:
                assert update.attachment is not None
                if system.has_attachment(ticket, update.attachment.name):
                    log.info("case %s: %s is already on %s", row.case_id, update.attachment.name, ticket.number)
                else:
                    system.attach(ticket, update.attachment)
            case UpdateKind.CHANGE:
                assert update.change is not None
                change = update.change.model_copy(update={"description": f"{update.change.description}\n{row.marker}"})
                number = system.open_change(ticket, change)
                log.info("case %s: change %s for CAB linked to %s", row.case_id, number, ticket.number)
        return None

    def pending(self) -> int:
        return sum(
            counts.get(OutboxStatus.PENDING.value, 0)
            for system, counts in self.outbox.counts().items()
            if system in self.systems
        )

    def next_due(self) -> datetime | None:
        """When the earliest pending row (or paused system) can be tried again."""
        rows = [r for r in self.outbox.rows(OutboxStatus.PENDING) if r.system in self.systems]
        if not rows:
            return None
        return max(min(r.next_attempt_at for r in rows), min(self.paused.values(), default=_EPOCH))

    def drain(self, timeout: float) -> int:
        """Deliver until nothing is pending or ``timeout`` seconds passed; returns the rows still pending."""
        deadline = self.clock.now() + timedelta(seconds=timeout)
        while True:
            self.deliver_due()
            left = self.pending()
            now = self.clock.now()
            if left == 0 or now >= deadline:
                return left
            due = self.next_due() or now
            self.clock.sleep(max(0.05, min((due - now).total_seconds(), (deadline - now).total_seconds())))

    async def run(self, interval: float = 1.0) -> None:
        """The background job `serve` runs: a pass every ``interval`` seconds, errors logged, never fatal."""
        while True:
            try:
                await asyncio.to_thread(self.deliver_due)
            except Exception:  # the edge of a background job: log and try again next tick
                log.exception("outbox delivery pass failed")
            await asyncio.sleep(interval)
