"""Live progress: one status message per case, edited in place as the case advances, one card per approval, one
message per question (its buttons removed once it is answered or closed), and the agent's answer to each
reply posted as a reply of its own.

Changes arrive from the ChangeFeed (published by worker threads). Each case syncs in its own task, so a
rate-limited call (429, Retry-After) for one case never holds up the others. Edits are coalesced: a case
that changes ten times while its message waits for its slot is edited once, with the newest state.

A case whose status edit does not fit the workspace's budget yet waits with no task of its own: it is parked
(its id and its status message's ts, in the order cases parked), and ``run`` starts its sync again, with the
edit taken, once the budget allows it; a change while it is parked needs nothing more, as the sync reads the
newest state then. After a burst the budget holds back every case for many minutes (50 edits a minute): a task
each (its coroutines, context, timer, what it read) was about 5 KiB a case, all woken together at every slot.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from functools import partial

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from actiondesk.agents.desk import FrontDesk
from actiondesk.agents.questions import Question, questions
from actiondesk.bot.slack.blocks import (
    card_blocks,
    card_text,
    esc,
    question_blocks,
    question_text,
    status_blocks,
    status_text,
)
from actiondesk.bot.slack.client import FAILURES
from actiondesk.bot.slack.pacing import Taken, UpdateBudget
from actiondesk.bot.slack.threads import Posted, Threads, thread_of
from actiondesk.bot.web.events import CLOSED
from actiondesk.core.approval import Approval
from actiondesk.core.audit import AuditKind
from actiondesk.core.audit_payloads import Message, read
from actiondesk.core.case import Case
from actiondesk.core.errors import CaseNotFoundError

log = logging.getLogger(__name__)

RETRY_AFTER_FAILURE_SECONDS = 30.0


@dataclass(frozen=True)
class Snapshot:
    case: Case
    approvals: list[Approval]
    latest: str | None
    questions: list[Question]
    replies: list[tuple[int, str]]  # (seq, text) of the agent's answers to people's replies


class Progress:
    def __init__(self, front: FrontDesk, threads: Threads, client: AsyncWebClient, budget: UpdateBudget) -> None:
        self._front = front
        self._threads = threads
        self._client = client
        self._budget = budget
        self._agent = front.agent
        self._dirty: set[str] = set()
        self._inflight: dict[str, asyncio.Task[None]] = {}
        # case id -> its status message's ts, for the cases waiting for an edit of the budget (oldest first)
        self._parked: dict[str, str] = {}
        self._wake = asyncio.Event()

    def touch(self, case_id: str) -> None:
        """Sync this case's messages soon (coalesced with any sync already waiting)."""
        self._dirty.add(case_id)
        self._wake.set()

    async def follow(self, queue: asyncio.Queue[str]) -> None:
        """Feed changes into touch() until the feed closes."""
        while (case_id := await queue.get()) != CLOSED:
            self.touch(case_id)

    async def run(self) -> None:
        while True:
            for case_id in list(self._dirty):
                if case_id in self._parked:  # its sync reads the newest state when it starts
                    self._dirty.discard(case_id)
                elif case_id not in self._inflight:
                    self._dirty.discard(case_id)
                    self._start(case_id)
            delay = self._unpark()
            if delay is None:
                await self._wake.wait()
            else:
                # asyncio.timeout, not wait_for: 3.11's wait_for drops a cancel that lands as the wait ends, and
                # this loop would then outlive the server's stop
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(delay):
                        await self._wake.wait()
            self._wake.clear()

    @property
    def parked(self) -> int:
        """Cases waiting for an edit of the budget (with no task)."""
        return len(self._parked)

    def _start(self, case_id: str, taken: Taken | None = None) -> None:
        task = asyncio.get_running_loop().create_task(self._sync(case_id, taken), name=f"slack-{case_id}")
        self._inflight[case_id] = task
        task.add_done_callback(partial(self._finished, case_id))

    def _park(self, case_id: str, message: str) -> None:
        self._parked[case_id] = message
        self._wake.set()  # run() works out when the budget allows it

    def _unpark(self) -> float | None:
        """Start the parked cases whose status edit fits the budget now, oldest first, each with its edit taken;
        the seconds until the next one's may, or None when none is parked."""
        soonest: float | None = None
        for case_id, message in list(self._parked.items()):
            if case_id in self._inflight:  # the task that parked it has not quite ended
                continue
            delay = self._budget.wait(message)
            if delay > 0:
                soonest = delay if soonest is None else min(soonest, delay)
                if self._budget.wait() > 0:  # the workspace's budget is spent: no other edit fits either
                    break
                continue
            del self._parked[case_id]
            self._start(case_id, self._budget.take(message))
        return soonest  # (a case parked by a task not quite ended: _done wakes run() for it)

    def _finished(self, case_id: str, _task: asyncio.Task[None]) -> None:
        self._done(case_id)

    def _done(self, case_id: str) -> None:
        self._inflight.pop(case_id, None)
        if case_id in self._dirty or self._parked:  # an edit given back may let a parked case go now
            self._wake.set()

    async def close(self) -> None:
        self._parked.clear()
        tasks = list(self._inflight.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _read(self, case_id: str) -> Snapshot | None:
        case = self._front.case(case_id)
        if case.surface != "slack" or thread_of(case) is None:
            return None
        latest = None
        replies: list[tuple[int, str]] = []
        entries = self._front.audit(case_id)
        for entry in entries:
            if entry.kind is AuditKind.MESSAGE and entry.actor == self._agent:
                said = read(entry, Message)
                latest = said.text
                if said.reply_to:
                    replies.append((entry.seq, latest))
        asked = questions(case, entries, self._agent)
        return Snapshot(case, self._front.approvals_of(case_id), latest, asked, replies)

    async def _sync(self, case_id: str, taken: Taken | None = None) -> None:
        """Bring the case's messages up to date. ``taken``: its status edit, taken from the budget as it was
        unparked; without it, a case whose status edit does not fit the budget now parks and ends here."""
        try:
            try:
                posted = await asyncio.to_thread(self._threads.posted, case_id)
                if taken is None and posted.status_ts is not None:
                    # coalesce: read the newest state only once it may be shown, and take the edit then, so the
                    # cases waiting for the budget hold neither a snapshot nor a task
                    if self._budget.wait(posted.status_ts) > 0:
                        self._park(case_id, posted.status_ts)
                        return
                    taken = self._budget.take(posted.status_ts)
                snap = await asyncio.to_thread(self._read, case_id)
                if snap is not None:
                    taken = await self._publish(snap, posted, taken)
            finally:
                if taken is not None:  # not used: the status message already shows the newest state
                    self._budget.give_back(taken)
        except CaseNotFoundError:
            log.warning("case %s: changed but not found", case_id)
        except FAILURES as exc:
            log.warning("case %s: Slack update failed (%s); retrying later", case_id, _why(exc))
            asyncio.get_running_loop().call_later(RETRY_AFTER_FAILURE_SECONDS, self.touch, case_id)

    async def _fits(self, message: str | None) -> None:
        while (delay := self._budget.wait(message)) > 0:
            await asyncio.sleep(delay)

    async def _slot(self, message: str | None) -> None:
        """Wait until an edit (of ``message``) fits the workspace budget, then spend it."""
        await self._fits(message)
        self._budget.spend(message)

    async def _post_slot(self, channel: str) -> None:
        """Wait until one more post to ``channel`` keeps to Slack's one message a second there, then take it."""
        while (delay := self._budget.post_wait(channel)) > 0:
            await asyncio.sleep(delay)
        self._budget.post_spend(channel)

    async def _publish(self, snap: Snapshot, posted: Posted, taken: Taken | None = None) -> Taken | None:
        """Post or edit what changed; returns ``taken`` (an edit of the status message already taken from the
        budget) when it was not used."""
        case = snap.case
        channel, thread_ts = thread_of(case) or ("", "")
        text = status_text(case, snap.latest)
        changed = False
        if posted.status_ts is None:
            await self._post_slot(channel)
            answer = await self._client.chat_postMessage(
                channel=channel, thread_ts=thread_ts, text=text, blocks=status_blocks(case, snap.latest)
            )
            posted = posted.model_copy(update={"status_ts": answer["ts"], "status_text": text})
            self._budget.posted(answer["ts"])
            changed = True
        elif text != posted.status_text:
            if taken is None:
                await self._slot(posted.status_ts)
            else:  # the edit taken before the read, stamped again now: the spacing counts from the call itself
                self._budget.give_back(taken)
                self._budget.spend(posted.status_ts)
                taken = None
            await self._client.chat_update(
                channel=channel, ts=posted.status_ts, text=text, blocks=status_blocks(case, snap.latest)
            )
            posted = posted.model_copy(update={"status_text": text})
            changed = True
        for approval in snap.approvals:
            shown = posted.card_states.get(approval.id)
            if shown == approval.status.value:
                continue
            ts = posted.cards.get(approval.id)
            if ts is None:
                await self._post_slot(channel)
                answer = await self._client.chat_postMessage(
                    channel=channel, thread_ts=thread_ts, text=card_text(approval), blocks=card_blocks(approval)
                )
                ts = answer["ts"]
            else:
                await self._slot(None)
                await self._client.chat_update(
                    channel=channel, ts=ts, text=card_text(approval), blocks=card_blocks(approval)
                )
            posted = posted.model_copy(
                update={
                    "cards": {**posted.cards, approval.id: ts},
                    "card_states": {**posted.card_states, approval.id: approval.status.value},
                }
            )
            changed = True
        posted, asked = await self._questions(snap, posted, channel, thread_ts)
        posted, replied = await self._replies(snap, posted, channel, thread_ts)
        if changed or asked or replied:
            await asyncio.to_thread(self._threads.save_posted, case.id, posted)
        return taken

    async def _questions(self, snap: Snapshot, posted: Posted, channel: str, thread_ts: str) -> tuple[Posted, bool]:
        """Post an open question with its buttons; once it is answered or closed, edit the buttons away."""
        changed = False
        for question in snap.questions:
            key, state = str(question.seq), "open" if question.open else "closed"
            if posted.question_states.get(key) == state:
                continue
            ts = posted.questions.get(key)
            text, blocks = question_text(question), question_blocks(question)
            if ts is None:
                if not question.open:
                    continue  # closed before it was ever shown: nothing left to ask
                answer = await self._client.chat_postMessage(
                    channel=channel, thread_ts=thread_ts, text=text, blocks=blocks
                )
                ts = answer["ts"]
            else:
                await self._slot(None)
                await self._client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)
            posted = posted.model_copy(
                update={
                    "questions": {**posted.questions, key: ts},
                    "question_states": {**posted.question_states, key: state},
                }
            )
            changed = True
        return posted, changed

    async def _replies(self, snap: Snapshot, posted: Posted, channel: str, thread_ts: str) -> tuple[Posted, bool]:
        """The agent's answer to each reply, as a message of its own in the thread: a reply never meets silence."""
        changed = False
        for seq, text in snap.replies:
            if seq <= posted.replied:
                continue
            await self._client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=esc(text))
            posted = posted.model_copy(update={"replied": seq})
            changed = True
        return posted, changed


def _why(exc: BaseException) -> str:
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error", "error"))
    return type(exc).__name__
