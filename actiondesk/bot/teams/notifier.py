"""Keeps Teams in step with the cases: one subscriber of the change feed that, for each changed case,
updates its card in place, posts approval cards (and edits them once decided or expired), posts question cards
(and edits their buttons away once answered or closed) and posts what people wait for — the answer to their
reply, verification results, resolution, escalation and who has it now (mentioning the on-call people when
nothing paged them), expiry, the post-mortem — proactively, from the conversation reference stored when the
case was opened. Cases opened by alerts start a thread in the channel the bot was last addressed in. An action
that ran without approval (whatever surface its case is on) is announced as a card with a Roll back button in
the owner team's Teams channel, or ACTIONDESK_TEAMS_NOTIFY_CHANNEL.

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
from botbuilder.schema import Activity, ActivityTypes, ChannelAccount, ConversationReference, Mention

from actiondesk.agents.postmortem import render_markdown, stored_postmortem
from actiondesk.agents.questions import Question
from actiondesk.agents.triage.signals import verification_text
from actiondesk.bot.teams.bot import Desk
from actiondesk.bot.teams.cards import acted_alone_card, approval_card, attachment, case_card, question_card
from actiondesk.bot.teams.threads import TeamsThread, card_digest
from actiondesk.bot.web.events import CLOSED, ChangeFeed
from actiondesk.core.approval import Approval
from actiondesk.core.audit import AuditEntry, AuditKind
from actiondesk.core.audit_payloads import (
    ActedAlone,
    ApprovalNoted,
    CaseEscalated,
    CaseFailed,
    CaseResolved,
    HandedOff,
    Message,
    Verification,
    parse,
    read,
)
from actiondesk.core.case import Case
from actiondesk.core.errors import AuditIntegrityError
from actiondesk.core.ports import Directory
from actiondesk.core.recent import Recent

log = logging.getLogger(__name__)

ALERT = "alert"  # an alert's case gets a thread in the notify channel when it opens
THREADED = frozenset({"teams", ALERT})  # the surfaces whose cases can have a Teams thread (bot.py, _start_thread)
FOLLOWED_CASES = 10_000  # cases whose last announced entry is kept (LRU); past it, the teams:acted keys dedupe


def notice(entry: AuditEntry) -> str | None:
    """What an audit entry tells the thread, computed from its data (None: nothing to say)."""
    match parse(entry):
        case Message() as said if said.reply_to:  # the agent's answer to someone's reply: never silence
            return said.text
        case Verification() as verified:
            return verification_text(verified)
        case CaseResolved():
            return f"Case {entry.case_id} is resolved."
        case CaseEscalated() as escalated:
            return f"Case {entry.case_id} is handed to a human: {escalated.reason}."
        case CaseFailed() as failed:
            return f"Case {entry.case_id} failed: {failed.reason}."
        case ApprovalNoted() as approval if approval.status == "expired":
            return f"Approval {approval.approval_id} expired: nobody decided in time, so it will not run."
    return None


def hand_off_activity(handed: HandedOff, directory: Directory) -> Activity:
    """Who has the case now; the on-call people are mentioned (<at>) when no pager reached them."""
    names: list[str] = []
    entities: list[Mention] = []
    for name in handed.people:
        person = directory.person(name)
        if handed.mention and person is not None and person.teams_aad_object_id:
            tag = f"<at>{name}</at>"
            mentioned = ChannelAccount(id=person.teams_aad_object_id, name=name)
            entities.append(Mention(mentioned=mentioned, text=tag, type="mention"))
            names.append(tag)
        else:
            names.append(name)
    who = ", ".join(names) or f"nobody (no one is in {handed.group})"
    how = f"; paged through {', '.join(handed.paged)}" if handed.paged else ""
    text = f"Handed to {handed.team} on-call: {who} ({handed.group}){how}. Why: {handed.reason}"
    return Activity(type=ActivityTypes.message, text=text, entities=entities)


def postmortem_activity(entry: AuditEntry) -> Activity | None:
    """The post-mortem a ``postmortem`` entry holds, as a Markdown message (None when it does not read back)."""
    try:
        pm = stored_postmortem([entry])
    except AuditIntegrityError as exc:
        log.warning("case %s: %s; not posted", entry.case_id, exc)
        return None
    if pm is None:
        return None
    return Activity(type=ActivityTypes.message, text=render_markdown(pm), text_format="markdown")


class Notifier:
    def __init__(self, desk: Desk, adapter: CloudAdapter, app_id: str) -> None:
        self.desk = desk
        self.adapter = adapter
        self.app_id = app_id
        self._acted_seen: Recent[str, int] = Recent(FOLLOWED_CASES)  # case id → the newest entry read

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
                        await self.refresh(case_id, feed.surface(case_id))
                    except Exception:  # the edge of a background job: log with the case id, keep going
                        log.exception("case %s: updating Teams failed", case_id)
        finally:
            feed.unsubscribe(queue)

    async def refresh(self, case_id: str, surface: str | None = None) -> None:
        """Announce the case's actions that ran alone; then, for a case with a Teams thread (opened in Teams, or an
        alert's), bring its card and messages up to date. ``surface``: the case's, when known (no reads for a case
        opened elsewhere)."""
        await self._announce(case_id)
        if surface is not None and surface not in THREADED:
            return
        threads = self.desk.threads
        thread = await asyncio.to_thread(threads.load, case_id)
        case = await asyncio.to_thread(self.desk.front.case, case_id)
        if thread is None:
            if case.surface != ALERT:
                return
            thread = await self._start_thread(case)
            if thread is None:
                return
        approvals = await asyncio.to_thread(self.desk.front.approvals_of, case_id)
        entries = await asyncio.to_thread(self.desk.front.audit, case_id, thread.seq)
        asked = await asyncio.to_thread(self.desk.front.questions.asked, case_id)

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
        own: list[Activity] = []  # notices that are messages of their own (mentions, the post-mortem)
        for entry in entries:
            thread.seq = max(thread.seq, entry.seq)
            text = notice(entry)
            made = None
            if entry.kind is AuditKind.HANDED_OFF:
                made = hand_off_activity(read(entry, HandedOff), self.desk.front.directory)
            elif entry.kind is AuditKind.POSTMORTEM:
                made = postmortem_activity(entry)
            if (text or made) and await asyncio.to_thread(self.desk.remember, f"teams:notice:{entry.seq}"):
                if text:
                    lines.append(text)
                if made is not None:
                    own.append(made)
        if lines:
            await post(context, Activity(type=ActivityTypes.message, text="\n\n".join(lines)))
        for activity in own:
            await post(context, activity)

    async def _announce(self, case_id: str) -> None:
        """Actions of the case that ran alone, as cards in the owner's Teams channel (once each)."""
        seen = self._acted_seen.get(case_id) or 0
        entries = await asyncio.to_thread(self.desk.front.audit, case_id, seen)
        if entries:
            self._acted_seen.put(case_id, entries[-1].seq)
        for entry in entries:
            if entry.kind is not AuditKind.ACTED_ALONE:
                continue
            alone = read(entry, ActedAlone)
            channel = self.desk.channel_for(alone.team)
            home = await asyncio.to_thread(self.desk.threads.home)
            if channel is None or home is None:
                log.info("case %s: no Teams channel to announce %s in", case_id, alone.run_key)
                continue
            if not await asyncio.to_thread(self.desk.remember, f"teams:acted:{entry.seq}"):
                continue
            reference = ConversationReference().deserialize(home)
            reference.conversation.id = channel
            card = acted_alone_card(alone, case_id)

            async def turn(context: TurnContext, card: dict[str, Any] = card) -> None:
                await post(context, Activity(type=ActivityTypes.message, attachments=[attachment(card)]))

            await self.adapter.continue_conversation(reference, turn, bot_app_id=self.app_id)

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
