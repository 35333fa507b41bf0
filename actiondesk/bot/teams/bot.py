"""The Teams activity handler: messages open or continue cases, card clicks decide approvals or answer questions.

It translates and does not decide: messages, approval clicks (approver group, separation of duties, expiry,
compare-and-set), answer clicks (taken only for a choice the case's open question offers) and rollbacks go to
the front desk (``agents/desk.py``), exactly as from the console and Slack. Every inbound activity is
deduplicated by the front desk's ``remember`` before it has any effect, so a retried delivery does nothing.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from functools import partial
from typing import Any

from botbuilder.core import ActivityHandler, InvokeResponse, TurnContext
from botbuilder.schema import Activity, ActivityTypes, ChannelAccount
from pydantic import ValidationError

from actiondesk.agents.desk import FrontDesk, Refusal
from actiondesk.agents.questions import Question, QuestionDesk
from actiondesk.bot.jobs.worker import CaseWorker
from actiondesk.bot.teams.cards import (
    ANSWER,
    VERBS,
    Choice,
    acted_alone_card,
    approval_card,
    attachment,
    card_response,
    case_card,
    error_response,
    question_card,
)
from actiondesk.bot.teams.forms import ONBOARD, onboarding_card, submitted
from actiondesk.bot.teams.identity import identify
from actiondesk.bot.teams.threads import TeamsThread, Threads, card_digest, delivery_key
from actiondesk.core.audit_payloads import ActedAlone
from actiondesk.core.case import Case
from actiondesk.core.errors import (
    ActionDeskError,
    CaseNotFoundError,
    ConcurrencyError,
    DuplicateDeliveryError,
    InvalidRequestError,
    NotAuthorizedError,
    StaleAnswerError,
)

log = logging.getLogger(__name__)

AT = re.compile(r"</?at>")
ASK_FORM = re.compile(r"(?i)^\W*(?:please\s+)?onboard\W*$")  # `onboard` alone: the form, not a request


@dataclass
class Desk:
    front: FrontDesk  # cases, approvals, answers, rollbacks: the one door every surface uses
    worker: CaseWorker
    threads: Threads
    notify_channel: str | None = None  # ACTIONDESK_TEAMS_NOTIFY_CHANNEL

    def remember(self, key: str) -> bool:
        return self.front.remember(key, "teams")

    def channel_for(self, team: str | None) -> str | None:
        """Where an action that ran alone is announced: the owner team's channel, else the notify channel."""
        owners = self.front.owners
        own = owners.team(team).teams_channel if owners is not None and team else None
        return own or self.notify_channel


def mentions_bot(activity: Activity) -> bool:
    bot_id = activity.recipient.id if activity.recipient else None
    for entity in activity.entities or []:
        props = entity.additional_properties or {}
        mentioned = props.get("mentioned") or {}
        if entity.type == "mention" and mentioned.get("id") == bot_id:
            return True
    return False


def message_text(activity: Activity) -> str:
    TurnContext.remove_recipient_mention(activity)
    return AT.sub("", activity.text or "").replace("&nbsp;", " ").strip()


class DeskBot(ActivityHandler):
    def __init__(self, desk: Desk) -> None:
        self.desk = desk

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        conversation_id = activity.conversation.id if activity.conversation else ""
        key = delivery_key("activity", conversation_id, activity.id or "")
        if isinstance(activity.value, dict) and activity.value.get("verb") in (*VERBS, ANSWER, "rollback"):
            if not await asyncio.to_thread(self.desk.remember, key):
                log.info("teams: activity %s delivered again; ignored", activity.id)
                return
            await self._submit(turn_context, activity.value)
            return
        try:  # the key is recorded in the same transaction as the case or reply the message leads to
            await self._message(turn_context, conversation_id, key)
        except DuplicateDeliveryError:
            log.info("teams: activity %s delivered again; ignored", activity.id)

    async def _message(self, context: TurnContext, conversation_id: str, key: str) -> None:
        activity = context.activity
        personal = (activity.conversation.conversation_type or "") == "personal"
        mentioned = mentions_bot(activity)
        text = message_text(activity)
        front = self.desk.front
        bound = await asyncio.to_thread(self.desk.threads.case_for, conversation_id)
        # a personal chat carries one case after another: once its case is closed, a message opens a new one
        case_id = await asyncio.to_thread(partial(front.reaches, bound, carries_many=personal)) if text else None
        if case_id is not None:
            who = await identify(context, front.directory)
            await asyncio.to_thread(partial(front.reply, case_id, who, text, delivery=key))
            self.desk.worker.kick(case_id)
            return
        if not personal and not mentioned:
            return  # channel chatter that is not addressed to the bot
        if not text:
            if not await asyncio.to_thread(self.desk.remember, key):
                return
            await context.send_activity("Tell me what is wrong, e.g. “the payment gateway is throwing 500s”.")
            return
        if not personal:
            await asyncio.to_thread(self.desk.threads.set_home, home_reference(activity))
        if ASK_FORM.match(text):
            if await asyncio.to_thread(self.desk.remember, key):
                card = onboarding_card(list(front.fulfilment.roles.roles.values()), front.clock.now().date())
                await context.send_activity(Activity(type=ActivityTypes.message, attachments=[attachment(card)]))
            return
        who = await identify(context, front.directory)
        thread = {"conversation_id": conversation_id, "activity_id": activity.id or ""}
        case = await asyncio.to_thread(
            partial(front.open_case, text, who, surface="teams", thread=thread, delivery=key)
        )
        await self._follow(context, case, conversation_id)
        log.info("case %s: opened from Teams by %s", case.id, who)

    async def _follow(self, context: TurnContext, case: Case, conversation_id: str) -> None:
        """Post the case card in this conversation, remember where it lives, and start the case."""
        card = case_card(case)
        sent = await context.send_activity(Activity(type=ActivityTypes.message, attachments=[attachment(card)]))
        reference = TurnContext.get_conversation_reference(context.activity).serialize()
        saved = TeamsThread(case_id=case.id, reference=reference, card_id=sent.id if sent else "")
        saved.card_hash = card_digest(card)
        await asyncio.to_thread(self.desk.threads.save, saved)
        await asyncio.to_thread(self.desk.threads.bind, conversation_id, case.id)
        self.desk.worker.kick(case.id)

    async def on_members_added_activity(self, members_added: list[ChannelAccount], turn_context: TurnContext) -> None:
        """Added to a team: its channel becomes where alert-opened cases start their threads."""
        activity = turn_context.activity
        bot_id = activity.recipient.id if activity.recipient else None
        channel = (activity.conversation.conversation_type or "") == "channel" if activity.conversation else False
        if channel and any(member.id == bot_id for member in members_added):
            await asyncio.to_thread(self.desk.threads.set_home, home_reference(activity))

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse:
        activity = turn_context.activity
        if activity.name != "adaptiveCard/action":
            return await super().on_invoke_activity(turn_context)
        conversation_id = activity.conversation.id if activity.conversation else ""
        value = _object(activity.value)
        action = _object(value.get("action"))
        data = _object(action.get("data"))
        verb = action.get("verb") or data.get("verb")
        key = delivery_key("invoke", conversation_id, activity.id or "")
        if verb == ANSWER:  # the delivery is recorded in the same transaction as the answer
            return InvokeResponse(status=200, body=await self._answer(turn_context, data, delivery=key))
        fresh = await asyncio.to_thread(self.desk.remember, key)
        if verb == ONBOARD:
            return InvokeResponse(status=200, body=await self._onboard(turn_context, data, fresh=fresh))
        body = await self._click(turn_context, verb, data, fresh=fresh)
        return InvokeResponse(status=200, body=body)

    async def _onboard(self, context: TurnContext, data: dict[str, Any], *, fresh: bool) -> dict[str, Any]:
        """Check the form's fields; a bad one comes back on the card, a good one opens the request's case here."""
        front = self.desk.front
        fulfilment = front.fulfilment
        if not fresh:
            return error_response(409, "Conflict", "this form was already sent")
        form, values = submitted(data)
        roles = list(fulfilment.roles.roles.values())
        today = front.clock.now().date()
        who = await identify(context, front.directory)
        activity = context.activity
        conversation_id = activity.conversation.id if activity.conversation else ""
        thread = {"conversation_id": conversation_id, "activity_id": activity.id or ""}
        try:
            onboard = partial(fulfilment.onboard, form, who, surface="teams", thread=thread)
            case = await asyncio.to_thread(onboard)
        except InvalidRequestError as exc:
            return card_response(onboarding_card(roles, today, values, exc.fields))
        await self._follow(context, case, conversation_id)
        log.info("case %s: onboarding opened from a Teams card by %s", case.id, who)
        return card_response(case_card(case))

    async def _answer(self, context: TurnContext, data: dict[str, Any], *, delivery: str | None) -> dict[str, Any]:
        """A click on a question's choice: the clicker's reply (unmapped people may answer; answering is not
        approving). Stale, forged or misplaced: an error for the clicker, nothing changed. The body of the invoke
        response: the question card as it now is."""
        try:
            clicked = Choice.model_validate(data)
        except ValidationError:
            return error_response(400, "BadRequest", "this card action is not one ActionDesk knows")
        front = self.desk.front
        who = await identify(context, front.directory)
        conversation = context.activity.conversation.id if context.activity.conversation else ""

        def answer() -> Case:
            thread = self.desk.threads.load(clicked.case_id)
            home = (thread.reference.get("conversation") or {}).get("id") if thread is not None else None
            if home != conversation:
                raise StaleAnswerError(f"that button does not belong to case {clicked.case_id}'s conversation")
            return front.answer(clicked.case_id, who, clicked.choice, question=clicked.question, delivery=delivery)

        try:
            case = await asyncio.to_thread(answer)
        except DuplicateDeliveryError:
            log.info("teams: answer %s delivered again; showing the card as it is", delivery)
        except (StaleAnswerError, CaseNotFoundError) as exc:
            log.info("case %s: %s's answer %r refused: %s", clicked.case_id, who, clicked.choice, exc)
            return error_response(400, "BadRequest", f"Not taken: {exc}")
        except ConcurrencyError:
            return error_response(400, "BadRequest", "Not taken: the case changed meanwhile; try again")
        else:
            log.info("case %s: %s answered %r from Teams", case.id, who, clicked.choice)
            self.desk.worker.kick(case.id)
        shown = await asyncio.to_thread(_question, front.questions, clicked)
        if shown is None:
            return error_response(400, "BadRequest", f"case {clicked.case_id} asked no such question")
        return card_response(question_card(shown))

    async def _click(self, context: TurnContext, verb: Any, data: dict[str, Any], *, fresh: bool) -> dict[str, Any]:
        """Decide (or, for a repeated delivery, only show) the approval; the body of the invoke response."""
        if verb == "rollback":
            return await self._rollback(context, data, fresh=fresh)
        approval_id = data.get("approval_id")
        if not isinstance(approval_id, str) or verb not in (*VERBS, "refresh"):
            return error_response(400, "BadRequest", "this card action is not one ActionDesk knows")
        front = self.desk.front
        who = await identify(context, front.directory)
        if verb == "refresh" or not fresh:
            # only shown; a retried refused click is refused again, without a new effect
            verdict = await asyncio.to_thread(front.may_decide, approval_id, who)
            if verdict.approval is not None and (verb == "refresh" or verdict.approval.status.value != "pending"):
                return card_response(approval_card(verdict.approval))
        else:
            reason = data.get("reason") if isinstance(data.get("reason"), str) else None
            verdict = await asyncio.to_thread(front.decide, approval_id, who, verb == "approve", reason or None)
        if verdict.approval is None:
            return error_response(404, "NotFound", f"there is no approval {approval_id}")
        if verdict.refused is Refusal.NOT_ALLOWED:
            log.info("teams: approval %s refused for %s: %s", approval_id, who, verdict.why)
            return error_response(403, "Forbidden", verdict.why)
        if verdict.decided and fresh and verb != "refresh":
            self.desk.worker.kick(verdict.approval.case_id)
        return card_response(approval_card(verdict.approval))

    async def _rollback(self, context: TurnContext, data: dict[str, Any], *, fresh: bool) -> dict[str, Any]:
        """Roll back: a rollback case that governance decides, in the notice's thread (directory people only)."""
        run_key = data.get("run_key")
        if not isinstance(run_key, str):
            return error_response(400, "BadRequest", "this card action is not one ActionDesk knows")
        front = self.desk.front
        who = await identify(context, front.directory)
        try:
            front.may_roll_back(who, surface="teams")
        except NotAuthorizedError as exc:
            return error_response(403, "Forbidden", str(exc))
        try:
            case_id = await asyncio.to_thread(front.run_case, run_key) or ""
        except ActionDeskError as exc:
            return error_response(404, "NotFound", str(exc))
        notice = await asyncio.to_thread(_acted_alone, front, case_id, run_key)
        if not fresh or not await asyncio.to_thread(self.desk.remember, f"teams:rollback:{run_key}"):
            return card_response(acted_alone_card(notice, case_id, f"Run {run_key} is already being rolled back."))
        activity = context.activity
        conversation = activity.conversation.id if activity.conversation else ""
        thread = {"conversation_id": conversation, "activity_id": activity.reply_to_id or ""}
        try:
            case = await asyncio.to_thread(partial(front.rollback, run_key, who, surface="teams", thread=thread))
        except ActionDeskError as exc:
            return error_response(409, "Conflict", f"cannot roll back {run_key}: {exc}")
        reference = TurnContext.get_conversation_reference(activity).serialize()
        await asyncio.to_thread(self.desk.threads.save, TeamsThread(case_id=case.id, reference=reference))
        await asyncio.to_thread(self.desk.threads.bind, conversation, case.id)
        self.desk.worker.kick(case.id)
        log.info("case %s: rollback of %s asked for by %s from Teams", case.id, run_key, who)
        outcome = f"Roll back asked for by {who}: case {case.id} (policy decides)."
        return card_response(acted_alone_card(notice, case_id, outcome))

    async def _submit(self, context: TurnContext, value: dict[str, Any]) -> None:
        """Action.Submit from a client without Universal Actions: decide or answer, then edit the card it came from."""
        verb = value.get("verb")
        if verb == ANSWER:
            body = await self._answer(context, value, delivery=None)  # the activity was remembered already
        else:
            body = await self._click(context, verb, value, fresh=True)
        if body.get("type") == "application/vnd.microsoft.error":
            message = body["value"]["message"]
            await context.send_activity(f"Not done: {message}")
            return
        card_id = context.activity.reply_to_id
        if card_id:
            update = Activity(type=ActivityTypes.message, id=card_id, attachments=[attachment(body["value"])])
            await context.update_activity(update)


def _question(desk: QuestionDesk, clicked: Choice) -> Question | None:
    return next((q for q in desk.asked(clicked.case_id) if q.seq == clicked.question), None)


def _acted_alone(front: FrontDesk, case_id: str, run_key: str) -> ActedAlone:
    """The case's newest notice that ``run_key`` ran alone (a notice naming only the run when there is none)."""
    found = front.newest(case_id, ActedAlone, lambda alone: alone.run_key == run_key) if case_id else None
    return found if found is not None else ActedAlone(run_key=run_key)


def home_reference(activity: Activity) -> dict[str, Any]:
    """The channel itself (no thread), where cases opened by alerts start their own threads."""
    reference = TurnContext.get_conversation_reference(activity)
    reference.activity_id = None
    if reference.conversation and reference.conversation.id:
        reference.conversation.id = reference.conversation.id.split(";messageid=")[0]
    return _object(reference.serialize())


def _object(value: object) -> dict[str, Any]:
    """A JSON object from an activity's loosely typed fields; anything else reads as empty."""
    return value if isinstance(value, dict) else {}
