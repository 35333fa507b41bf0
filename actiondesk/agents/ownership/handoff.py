"""The Recorder's hook for everything that happens when a person takes over.

Every case change passes through ``Recorder.save`` / ``append`` with the audit entries that explain it; this hook
looks at them and adds, in the same transaction:

- on a hand-off (``case_escalated`` / ``case_failed``): who has the case now — the owner team and its on-call
  group's people (``handed_off``, and a line in the thread) — and, for an incident, a page to the configured
  pagers (``page`` trigger; none while the case's page is still open: the case is its dedup key);
- on ``case_resolved``: the page's resolution, and for an incident the post-mortem (``postmortem``);
- on the first thing a person does after a hand-off (a message, an approval decision, a Take it): ``picked_up``;
- when a step that ran without approval at level 2 or 3 finishes: ``acted_alone``, which the chat surfaces
  announce to the owner with a Roll back button.

The pages and the post-mortem's attachment leave through the outbox, queued with these entries.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from actiondesk.agents.mirror import ticket_of
from actiondesk.agents.ownership.owners import OwnerBook
from actiondesk.agents.postmortem import build_postmortem
from actiondesk.agents.record import Note, Recorder
from actiondesk.core.audit import AuditDraft, AuditEntry, AuditKind
from actiondesk.core.audit_payloads import (
    ActedAlone,
    ApprovalNoted,
    CaseStopped,
    HandedOff,
    Message,
    Page,
    PickedUp,
    Postmortem,
    parse,
    read,
)
from actiondesk.core.case import Case, CaseKind
from actiondesk.core.errors import ActionDeskError, NotAuthorizedError
from actiondesk.core.estate import Owner, Service
from actiondesk.core.governance import AutonomyLevel, Outcome
from actiondesk.core.paging import PageAction, PageDraft, Severity
from actiondesk.core.plan import PlanStep, StepStatus
from actiondesk.core.ports import Clock, Directory, Store
from actiondesk.core.redact import redact_text
from actiondesk.core.tickets import OutboxDraft, TicketUpdate, UpdateKind

log = logging.getLogger(__name__)

Fact = AuditEntry | AuditDraft
PAGER_NAMES = {"pagerduty": "PagerDuty", "opsgenie": "Opsgenie"}
FINISHED = (StepStatus.SUCCEEDED, StepStatus.FAILED)
SYSTEM_ACTORS = frozenset({"alertmanager"})


def history_of(store: Store, case_id: str) -> list[AuditEntry]:
    return list(store.audit(case_id))


def _open_page(facts: Sequence[Fact]) -> Page | None:
    """The case's last page trigger, if no resolution followed it."""
    last = None
    for fact in facts:
        if fact.kind is AuditKind.PAGE:
            page = read(fact, Page)
            last = page if page.action == PageAction.TRIGGER.value else None
    return last


def _open_hand_off(facts: Sequence[Fact]) -> Fact | None:
    """The case's last hand-off, if nobody picked it up since."""
    last: Fact | None = None
    for fact in facts:
        if fact.kind is AuditKind.HANDED_OFF:
            last = fact
        elif fact.kind is AuditKind.PICKED_UP:
            last = None
    return last


def severity(service: Service | None) -> Severity:
    """How loud a page is: a critical production service is critical, other production error, the rest warning."""
    if service is None:
        return Severity.ERROR
    if service.production and service.tier <= 1:
        return Severity.CRITICAL
    return Severity.ERROR if service.production else Severity.WARNING


class TakeOver:
    def __init__(
        self,
        owners: OwnerBook,
        directory: Directory,
        store: Store,
        clock: Clock,
        *,
        agent: str,
        pagers: Sequence[str] = (),
        public_url: str | None = None,
    ) -> None:
        self.owners = owners
        self.directory = directory
        self.store = store
        self.clock = clock
        self.agent = agent
        self.pagers = tuple(pagers)
        self.public_url = public_url.rstrip("/") if public_url else None

    # The Recorder's hook

    def notes(self, before: Case | None, after: Case, drafts: Sequence[AuditDraft]) -> list[Note]:
        """Entries to add to this change, in its transaction."""
        out: list[Note] = []
        kinds = {d.kind for d in drafts}
        people = [d for d in drafts if self._by_person(d, after)]
        history: list[AuditEntry] | None = None
        if people or kinds & {AuditKind.CASE_ESCALATED, AuditKind.CASE_FAILED, AuditKind.CASE_RESOLVED}:
            history = history_of(self.store, after.id)
        if people and history is not None:
            out += self._picked_up(after, people, history)
        out += self._acted_alone(before, after)
        ending = next((d for d in drafts if d.kind in (AuditKind.CASE_ESCALATED, AuditKind.CASE_FAILED)), None)
        if ending is not None and history is not None:
            stopped = parse(ending)
            out += self._hand_off(after, stopped.reason if isinstance(stopped, CaseStopped) else "", history)
        if AuditKind.CASE_RESOLVED in kinds and history is not None:
            out += self._resolved(after, history, drafts, out)
        return out

    def outbox(self, case: Case, drafts: Sequence[AuditDraft]) -> list[OutboxDraft]:
        """The pages these entries call for, one row per pager."""
        rows: list[OutboxDraft] = []
        for draft in drafts:
            if draft.kind is not AuditKind.PAGE:
                continue
            noted = read(draft, Page)
            page = PageDraft.model_validate(noted.page)
            update = TicketUpdate(kind=UpdateKind.PAGE, text=page.reason, page=page)
            rows += [OutboxDraft(system=s, ticket=ticket_of(case), update=update) for s in noted.systems]
        return rows

    # Who has it

    def owner(self, case: Case) -> Owner:
        return self.owners.owner_of(case)[0]

    def _service(self, case: Case) -> Service | None:
        if not case.service:
            return None
        try:
            return self.owners.inventory.service(case.service)
        except ActionDeskError:
            return None

    def _hand_off(self, case: Case, reason: str, history: Sequence[Fact]) -> list[Note]:
        owner, source = self.owners.owner_of(case)
        people = sorted(self.directory.members(owner.group))
        paging = bool(self.pagers) and case.kind is CaseKind.INCIDENT
        still_open = _open_page(history) is not None
        who = ", ".join(people) if people else f"nobody (the directory has no one in {owner.group})"
        if paging:
            names = " and ".join(PAGER_NAMES.get(p, p) for p in self.pagers)
            how = f"the page through {names} is still open" if still_open else f"paged through {names}"
            text = f"Handed to {owner.team} on-call: {who} ({owner.group}); {how}."
        else:
            text = f"Handed to {owner.team} on-call: {who} (@{owner.group})."
        notes: list[Note] = [
            HandedOff(
                reason=reason,
                team=owner.team,
                group=owner.group,
                source=source,
                people=people,
                assignment_group=self.owners.assignment_group(owner),
                paged=list(self.pagers) if paging else [],
                mention=not paging,
            ),
            Message(text=text, hand_off=True),
        ]
        if paging and not still_open:
            notes.append(self._page(case, owner, PageAction.TRIGGER, reason, self.pagers))
        return notes

    def _page(self, case: Case, owner: Owner, action: PageAction, reason: str, systems: Sequence[str]) -> Page:
        service = self._service(case)
        details = {"case": case.id, "team": owner.team, "group": owner.group, "reported_by": case.reporter}
        if case.service:
            details["service"] = case.service
        if self.public_url:
            details["console"] = f"{self.public_url}/#case={case.id}"
        page = PageDraft(
            action=action,
            dedup_key=case.id,
            summary=redact_text(f"[ActionDesk {case.id}] {case.service or case.title}: {reason}")[:1024],
            service=case.service,
            team=owner.team,
            group=owner.group,
            severity=severity(service),
            reason=redact_text(reason),
            details=details,
        )
        return Page(action=action.value, dedup_key=case.id, systems=list(systems), page=page.model_dump(mode="json"))

    # Resolution

    def _resolved(
        self, case: Case, history: Sequence[Fact], drafts: Sequence[AuditDraft], added: Sequence[Note]
    ) -> list[Note]:
        out: list[Note] = []
        page = _open_page(history)
        if page is not None:
            owner = self.owner(case)
            out.append(self._page(case, owner, PageAction.RESOLVE, "the case is resolved", page.systems))
        if case.kind is CaseKind.INCIDENT:
            now = self.clock.now()
            pending = [note.draft(case.id, self.agent, now) for note in added]
            facts: list[Fact] = [*history, *drafts, *pending]
            pm = build_postmortem(case, facts, self.owner(case), agent=self.agent, service=self._service(case), now=now)
            out.append(Postmortem.of(pm))
            out.append(
                Message(
                    text=f"Post-mortem written: {pm.summary} Read it with `actiondesk postmortem {case.id}`"
                    + (f" or at {self.public_url}/#case={case.id}" if self.public_url else " or in the console")
                    + ".",
                    postmortem=True,
                )
            )
        return out

    # Picked up

    def _by_person(self, draft: AuditDraft, case: Case) -> bool:
        """Something a person (not the agent, not the reporter, not a system) did on the case; a Take it counts
        whoever clicks it."""
        if _takes(draft):
            return draft.actor != self.agent
        if draft.actor in {self.agent, case.reporter} or draft.actor in SYSTEM_ACTORS:
            return False
        if draft.kind is AuditKind.MESSAGE:
            return True
        return draft.kind is AuditKind.APPROVAL and read(draft, ApprovalNoted).status not in ("refused", "expired")

    def _picked_up(self, case: Case, acts: Sequence[AuditDraft], history: Sequence[Fact]) -> list[Note]:
        handed = _open_hand_off(history)
        if handed is None:
            return []
        first = acts[0]
        how = "approval" if first.kind is AuditKind.APPROVAL else "message"
        if _takes(first):
            how = "take"
        elif " on " in first.actor:  # a comment on the ticket, read back as "<author> on <ticket number>"
            how = "ticket"
        after = max(0.0, (first.at - handed.at).total_seconds())
        owner = read(handed, HandedOff)
        return [
            PickedUp(
                by=first.actor,
                how=how,
                handed_off_at=handed.at.isoformat(),
                after_seconds=after,
                team=owner.team,
                group=owner.group,
            )
        ]

    # Acting alone

    def _acted_alone(self, before: Case | None, after: Case) -> list[Note]:
        if after.plan is None:
            return []
        earlier: dict[str, PlanStep] = {}
        if before is not None and before.plan is not None:
            earlier = {s.run_key: s for s in before.plan.steps if s.run_key}
        out: list[Note] = []
        for step in after.plan.steps:
            decision = step.decision
            if step.status not in FINISHED or not step.run_key or decision is None:
                continue
            if decision.outcome is not Outcome.ALLOW or decision.autonomy_level < AutonomyLevel.GUARDED:
                continue
            seen = earlier.get(step.run_key)
            if seen is not None and seen.status in FINISHED:
                continue  # announced when it finished
            owner = self.owner(after)
            out.append(
                ActedAlone(
                    step=step.index,
                    action=step.call.action,
                    params=dict(step.call.params),
                    run_key=step.run_key,
                    status=step.status.value,
                    error=step.error,
                    level=int(decision.autonomy_level),
                    confidence=decision.confidence,
                    threshold=decision.confidence_threshold,
                    policy_ids=list(decision.policy_ids),
                    reasons=list(decision.reasons),
                    service=after.service,
                    title=after.title,
                    team=owner.team,
                    group=owner.group,
                )
            )
        return out

    # A person says "I have it"

    def take(self, recorder: Recorder, case_id: str, person: str) -> Case:
        """A Take it click: a note by the person, which picks the case up if it was handed off. Only a person in
        the directory can take a case (raise NotAuthorizedError; CaseNotFoundError for a wrong id)."""
        case = self.store.get_case(case_id)
        if self.directory.person(person) is None or person == self.agent:
            raise NotAuthorizedError(f"{person} is not a person in the directory; only people there can take a case")
        with self.store.transaction() as uow:
            recorder.append(uow, case.id, [Message(text=f"{person} is taking this.", take=True)], actor=person)
        recorder.changed(case.id, case.surface)
        return case


def _takes(fact: Fact) -> bool:
    """A person's Take it (a message that takes the case)."""
    return fact.kind is AuditKind.MESSAGE and bool(read(fact, Message).take)
