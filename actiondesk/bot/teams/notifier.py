"""Keeps Teams in step with the cases: one subscriber of the change feed that, for each changed case,
updates its card in place, posts approval cards (and edits them once decided or expired), posts question cards
(and edits their buttons away once answered or closed) and posts what people wait for — the answer to their
reply, verification results, resolution, escalation, expiry — proactively, from the
conversation reference stored when the case was opened. Cases opened by alerts start a thread in the
channel the bot was last addressed in.

Changes are coalesced per case; a card is only sent again when it differs. Each notice is claimed with
``uow.remember`` before it is posted, so two replicas never post the same one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity, ActivityTypes, ConversationReference

from actiondesk.agents.questions import Question
from actiondesk.agents.triage.signals import verification_text
from actiondesk.bot.events import CLOSED, ChangeFeed
from actiondesk.bot.teams.bot import Desk
from actiondesk.bot.teams.cards import approval_card, attachment, case_card, question_card
from actiondesk.bot.teams.threads import TeamsThread, card_digest
from actiondesk.core.approval import Approval
from actiondesk.core.audit import AuditEntry, AuditKind
from actiondesk.core.case import Case

log = logging.getLogger(__name__)


def notice(entry: AuditEntry) -> str | None:
    """What an audit entry tells the thread, computed from its data (None: nothing to say)."""
    p = entry.payload
    match entry.kind:
        case AuditKind.MESSAGE if p.get("reply_to"):  # the agent's answer to someone's reply: never silence
            return str(p.get("text", ""))
        case AuditKind.VERIFICATION:
            return verification_text(p)
        case AuditKind.CASE_RESOLVED:
            return f"Case {entry.case_id} is resolved."
        case AuditKind.CASE_ESCALATED:
            return f"Case {entry.case_id} is handed to a human: {p.get('reason')}."
        case AuditKind.CASE_FAILED:
            return f"Case {entry.case_id} failed: {p.get('reason')}."
        case AuditKind.APPROVAL if p.get("status") == "expired":
            return f"Approval {p.get('approval_id')} expired: nobody decided in time, so it will not run."
    return None


class Notifier:
    def __init__(self, desk: Desk, adapter: CloudAdapter, app_id: str) -> None:
        self.desk = desk
        self.adapter = adapter
        self.app_id = app_id

    async def run(self, feed: ChangeFeed) -> None:
        queue = feed.subscribe()
        try:
            while True:
                dirty = [await queue.get()]
                while not queue.empty():
                    dirty.append(queue.get_nowait())
                if CLOSED in dirty:
                    return
                for case_id in dict.fromkeys(dirty):
                    try:
                        await self.refresh(case_id)
                    except Exception:  # the edge of a background job: log with the case id, keep going
                        log.exception("case %s: updating Teams failed", case_id)
        finally:
            feed.unsubscribe(queue)

    async def refresh(self, case_id: str) -> None:
        threads = self.desk.threads
        thread = await asyncio.to_thread(threads.load, case_id)
        case = await asyncio.to_thread(self.desk.store.get_case, case_id)
        if thread is None:
            if case.surface != "alert":
                return
            thread = await self._start_thread(case)
            if thread is None:
                return
        approvals = await asyncio.to_thread(self.desk.store.approvals, case_id)
        entries = await asyncio.to_thread(lambda: list(self.desk.store.audit(case_id, thread.seq)))
        asked = await asyncio.to_thread(self.desk.questions.asked, case_id)

        async def turn(context: TurnContext) -> None:
            await self._sync(context, thread, case, approvals, entries)
            await self._questions(context, thread, asked)

        reference = ConversationReference().deserialize(thread.reference)
        await self.adapter.continue_conversation(reference, turn, bot_app_id=self.app_id)
        await asyncio.to_thread(threads.save, thread)

    async def _sync(
        self,
        context: TurnContext,
        thread: TeamsThread,
        case: Case,
        approvals: list[Approval],
        entries: list[AuditEntry],
    ) -> None:
        card = case_card(case)
        digest = card_digest(card)
        if thread.card_id and digest != thread.card_hash:
            await context.update_activity(
                Activity(type=ActivityTypes.message, id=thread.card_id, attachments=[attachment(card)])
            )
            thread.card_hash = digest
        for approval in approvals:
            state = approval.status.value
            known = thread.approval_cards.get(approval.id)
            if known is None and state == "pending":
                thread.approval_cards[approval.id] = await post(
                    context, Activity(type=ActivityTypes.message, attachments=[attachment(approval_card(approval))])
                )
                thread.approval_states[approval.id] = state
            elif known and thread.approval_states.get(approval.id) != state:
                await context.update_activity(
                    Activity(type=ActivityTypes.message, id=known, attachments=[attachment(approval_card(approval))])
                )
                thread.approval_states[approval.id] = state
        lines: list[str] = []
        for entry in entries:
            thread.seq = max(thread.seq, entry.seq)
            text = notice(entry)
            if text and await asyncio.to_thread(self.desk.remember, f"teams:notice:{entry.seq}"):
                lines.append(text)
        if lines:
            await post(context, Activity(type=ActivityTypes.message, text="\n\n".join(lines)))

    async def _questions(self, context: TurnContext, thread: TeamsThread, asked: list[Question]) -> None:
        """Post an open question's card; once it is answered or closed, replace it by one without buttons."""
        for question in asked:
            key, state = str(question.seq), "open" if question.open else "closed"
            if thread.question_states.get(key) == state:
                continue
            card = attachment(question_card(question))
            known = thread.question_cards.get(key)
            if known is None:
                if not question.open:
                    continue  # closed before it was ever shown: nothing left to ask
                thread.question_cards[key] = await post(
                    context, Activity(type=ActivityTypes.message, attachments=[card])
                )
            else:
                await context.update_activity(Activity(type=ActivityTypes.message, id=known, attachments=[card]))
            thread.question_states[key] = state

    async def _start_thread(self, case: Case) -> TeamsThread | None:
        """A case opened by an alert: a new thread in the home channel, if the bot has one."""
        home = await asyncio.to_thread(self.desk.threads.home)
        if home is None:
            return None
        reference = ConversationReference().deserialize(home)
        card = case_card(case)
        posted: dict[str, Any] = {}

        async def turn(context: TurnContext) -> None:
            posted["id"] = await post(context, Activity(type=ActivityTypes.message, attachments=[attachment(card)]))

        await self.adapter.continue_conversation(reference, turn, bot_app_id=self.app_id)
        root = f"{reference.conversation.id};messageid={posted['id']}"
        reference.conversation.id = root
        reference.activity_id = posted["id"]
        thread = TeamsThread(case_id=case.id, reference=reference.serialize(), card_id=posted["id"])
        thread.card_hash = card_digest(card)
        await asyncio.to_thread(self.desk.threads.bind, root, case.id)
        log.info("case %s: posted to the Teams home channel", case.id)
        return thread


async def post(context: TurnContext, activity: Activity) -> str:
    """Send to the conversation itself (POST .../activities): botbuilder's proactive ``send_activity`` would
    make it a reply to the made-up id of its continuation activity. Returns the new activity's id."""
    reference = TurnContext.get_conversation_reference(context.activity)
    TurnContext.apply_conversation_reference(activity, reference)
    activity.reply_to_id = None
    client = context.turn_state[context.adapter.BOT_CONNECTOR_CLIENT_KEY]
    response = await client.conversations.send_to_conversation(activity.conversation.id, activity)
    return response.id if response is not None and response.id else ""


async def stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
