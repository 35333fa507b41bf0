"""Persist a case change together with the audit entries that explain it, in one transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

from pydantic import JsonValue

from actiondesk.core.audit import AuditDraft
from actiondesk.core.audit_payloads import Message, Payload
from actiondesk.core.case import Case
from actiondesk.core.ports import Clock, Store, UnitOfWork
from actiondesk.core.tickets import OutboxDraft

# An entry to append: its typed payload (the kind comes with the model).
Note = Payload
# Told after each committed change: the case's id and, when the teller holds the case, its surface (None: not said).
Notify = Callable[[str, str | None], None]
# Which audit entries become ticket writes (agents/mirror.py); queued in the same transaction as the entries.
Mirror = Callable[[Case, Sequence[AuditDraft]], list[OutboxDraft]]


class Hook(Protocol):
    """Sees every change with its entries and may add entries and outbox rows to it, in its transaction
    (agents/ownership: hand-offs and pages, pick-ups, notices of actions that ran alone, post-mortems)."""

    def notes(self, before: Case | None, after: Case, drafts: Sequence[AuditDraft]) -> list[Note]: ...

    def outbox(self, case: Case, drafts: Sequence[AuditDraft]) -> list[OutboxDraft]: ...


class Recorder:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        agent: str,
        notify: Notify | None = None,
        mirror: Mirror | None = None,
        hook: Hook | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.agent = agent
        self._notify = notify
        self._mirror = mirror
        self.hook = hook

    def drafts(self, case_id: str | None, notes: Iterable[Note], actor: str | None = None) -> list[AuditDraft]:
        now = self.clock.now()
        return [note.draft(case_id, actor or self.agent, now) for note in notes]

    def append(self, uow: UnitOfWork, case_id: str | None, notes: Iterable[Note], actor: str | None = None) -> None:
        drafts = self.drafts(case_id, notes, actor)
        if case_id is not None and drafts and (self._mirror is not None or self.hook is not None):
            case = uow.get_case(case_id)
            drafts += self._more(case, case, drafts)
            self._write(uow, case, drafts)
            return
        for draft in drafts:
            uow.append_audit(draft)

    def save(self, case: Case, *notes: Note, actor: str | None = None, uow: UnitOfWork | None = None) -> Case:
        """Save ``case`` (optimistic version check) and append ``notes``; commit unless ``uow`` is given."""
        if uow is not None:
            before = uow.get_case(case.id) if self.hook is not None else None
            saved = uow.save_case(case)
            drafts = self.drafts(case.id, notes, actor)
            drafts += self._more(before, saved, drafts)
            self._write(uow, saved, drafts)
            return saved
        with self.store.transaction() as tx:
            saved = self.save(case, *notes, actor=actor, uow=tx)
        self.changed(case.id, saved.surface)
        return saved

    def _more(self, before: Case | None, after: Case, drafts: list[AuditDraft]) -> list[AuditDraft]:
        """What the hook adds to this change (written by the agent)."""
        if self.hook is None or not drafts:
            return []
        return self.drafts(after.id, self.hook.notes(before, after, drafts))

    def _write(self, uow: UnitOfWork, case: Case, drafts: Sequence[AuditDraft]) -> None:
        for draft in drafts:
            uow.append_audit(draft)
        if not drafts:
            return
        rows = self._mirror(case, drafts) if self._mirror is not None else []
        if self.hook is not None:
            rows += self.hook.outbox(case, drafts)
        if rows:
            uow.enqueue(rows, self.clock.now())

    def changed(self, case_id: str, surface: str | None = None) -> None:
        """Tell the change feed (after the commit); ``surface``: the case's, when the caller holds the case."""
        if self._notify is not None:
            self._notify(case_id, surface)


def say(text: str, **extra: JsonValue) -> Message:
    """A message from the agent into the case thread (``extra``: the fields of ``Message`` it also sets)."""
    return Message.model_validate({"text": text, **extra})
