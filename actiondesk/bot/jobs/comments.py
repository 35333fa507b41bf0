"""Two-way mirroring: comments and work notes people add on the tickets come back into the case thread.

Each ticket is read from its cursor (kept in the ``ticket-comment-cursors`` state blob, per system and
case); what ActionDesk itself wrote is skipped by its marker. A firing is claimed in ``job_fires`` first,
so with several replicas one of them reads the tickets.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from actiondesk.adapters.store import SqlStore
from actiondesk.agents.loop import CaseLoop
from actiondesk.core.errors import TicketError
from actiondesk.core.ports import TicketSystem

log = logging.getLogger(__name__)

CURSORS = "ticket-comment-cursors"
JOB = "ticket-comments"
RECENT_CASES = 200  # the newest cases are read back; older tickets are left to people


class CommentPoller:
    def __init__(self, store: SqlStore, systems: Mapping[str, TicketSystem], loop: CaseLoop) -> None:
        self.store = store
        self.systems = dict(systems)
        self.loop = loop

    def poll(self) -> list[str]:
        """Read every linked ticket once; return the ids of the cases that got a comment."""
        cursors: dict[str, dict[str, str | None]] = json.loads(self.store.get_blob(CURSORS) or "{}")
        case_ids = [c.id for c in self.store.list_cases(limit=RECENT_CASES)]
        touched: list[str] = []
        for name, system in self.systems.items():
            seen = cursors.setdefault(name, {})
            for case_id, ticket in self.store.outbox.links(name, case_ids).items():
                try:
                    comments, cursor = system.comments_since(ticket, seen.get(case_id))
                except TicketError as exc:
                    log.warning("case %s: cannot read %s comments: %s", case_id, ticket.number, exc)
                    continue
                for comment in comments:
                    self.loop.add_message(case_id, f"{comment.author} on {ticket.number}", comment.text, answer=False)
                    log.info("case %s: comment %s from %s", case_id, comment.id, ticket.number)
                if comments and case_id not in touched:
                    touched.append(case_id)
                if cursor != seen.get(case_id):
                    seen[case_id] = cursor
                    self.store.put_blob(CURSORS, json.dumps(cursors, sort_keys=True))
        return touched

    def poll_once(self, now: datetime, every: float, owner: str) -> list[str]:
        """The scheduled firing: only the process that claims this slot reads the tickets."""
        fire = datetime.fromtimestamp(math.floor(now.timestamp() / every) * every, tz=UTC)
        if not self.store.claim_fire(JOB, fire, owner, now):
            return []
        return self.poll()

    async def run(self, every: float, owner: str, kick: Callable[[str], None]) -> None:
        """`serve`'s background job; a case that got a comment is advanced (it may have been reopened)."""
        while True:
            await asyncio.sleep(every)
            try:
                touched = await asyncio.to_thread(self.poll_once, datetime.now(UTC), every, owner)
                for case_id in touched:
                    kick(case_id)
            except Exception:  # the edge of a background job: log and try again next time
                log.exception("reading ticket comments failed")
