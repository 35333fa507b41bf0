"""What Slack hears besides each case's status message, from the audit trail:

- a hand-off (``handed_off``): a new message in the case's thread naming who has it now, with a Take it button,
  mentioning the owner's on-call people by their Slack ids when no pager reached them (an edited status
  message would notify nobody);
- a post-mortem (``postmortem``): posted to the case's thread;
- an action that ran without approval at level 2 or 3 (``acted_alone``): announced in the owner team's channel
  (the owners file) or ``ACTIONDESK_SLACK_NOTIFY_CHANNEL``, with what ran and a Roll back button that opens a
  rollback case through governance.

Each notice is claimed (``uow.remember``) before it is posted, so two replicas never post the same one; a post
that fails is tried again by this process, waiting twice as long each time (30 s, 1 min, ... up to 10 min), at
most ``ATTEMPTS`` times in all; then it is given up, with an error logged. A notice waiting to be tried again holds
only its case id and entry seq (the case and the entry are read again when it is tried), and at most
``PENDING_LIMIT`` wait at once: past it a failed notice is given up at once, logged.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from actiondesk.agents.desk import FrontDesk
from actiondesk.agents.postmortem import PostMortem, render_markdown, stored_postmortem
from actiondesk.bot.slack.blocks import call_text, esc
from actiondesk.bot.slack.client import FAILURES
from actiondesk.bot.slack.threads import thread_of
from actiondesk.bot.web.events import CLOSED
from actiondesk.core.audit import AuditEntry, AuditKind
from actiondesk.core.audit_payloads import ActedAlone, HandedOff, Postmortem, parse
from actiondesk.core.case import Case
from actiondesk.core.ports import Directory
from actiondesk.core.recent import Recent

log = logging.getLogger(__name__)

ROLLBACK = "rollback_run"
TAKE = "take_case"
KINDS = frozenset({AuditKind.HANDED_OFF, AuditKind.POSTMORTEM, AuditKind.ACTED_ALONE})
RETRY_SECONDS = 30.0  # before the first retry; each next one waits twice as long, up to RETRY_MAX_SECONDS
RETRY_MAX_SECONDS = 600.0
ATTEMPTS = 8  # posts of one notice in all (about an hour of Slack outage), then it is given up
PENDING_LIMIT = 1_000  # notices waiting to be tried again at once; past it a failed notice is given up
# cases whose newest entry read is remembered, the least recently changed forgotten first: a forgotten case's next
# change reads its whole trail once, and the delivery keys keep its notices from being posted twice
FOLLOWED_CASES = 10_000
Block = dict[str, Any]


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}


def _context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text[:3000]}]}


def _button(text: str, action_id: str, value: str, style: str | None = None) -> Block:
    button: Block = {"type": "button", "text": {"type": "plain_text", "text": text}, "action_id": action_id}
    button["value"] = value
    if style:
        button["style"] = style
    return button


def acted_alone_text(alone: ActedAlone, case_id: str) -> str:
    call = call_text(alone.action, dict(alone.params))
    why = f"level {alone.level if alone.level is not None else 'unknown'}"
    if alone.confidence is not None and alone.threshold is not None:
        why += f", diagnosis {alone.confidence:.0%} sure (threshold {alone.threshold:.0%})"
    error = f": {alone.error}" if alone.error else ""
    owner = f", owned by {alone.team}" if alone.team else ""
    return f"ActionDesk ran `{call}` on its own ({why}) for case {case_id}{owner}. Result: {alone.status}{error}."


def acted_alone_blocks(alone: ActedAlone, case_id: str, outcome: str | None = None) -> list[Block]:
    """The notice; with ``outcome`` (after a click), what became of the Roll back instead of the button."""
    run_key = alone.run_key or ""
    blocks = [
        _section(f":robot_face: {esc(acted_alone_text(alone, case_id))}"),
        _context(f"Case *{esc(case_id)}*: {esc(alone.title or '')} · run `{esc(run_key)}`"),
    ]
    if outcome is not None:
        blocks.append(_context(esc(outcome)))
    elif alone.status == "succeeded" and run_key:
        blocks.append(_context(f"To undo it: Roll back (policy decides), or `/actiondesk rollback {esc(run_key)}`"))
        blocks.append({"type": "actions", "elements": [_button("Roll back", ROLLBACK, run_key, "danger")]})
    return blocks


def hand_off_text(
    handed: HandedOff, directory: Directory, *, mrkdwn: bool = False, usergroup: str | None = None
) -> str:
    """Who has the case now; as mrkdwn, when no pager reached them, the team's Slack user group (<!subteam^id>)
    and the on-call people (<@id>) are mentioned."""
    shown = [f"<!subteam^{usergroup}>"] if mrkdwn and usergroup and handed.mention else []
    for name in handed.people:
        person = directory.person(name)
        mention = mrkdwn and handed.mention and person is not None and person.slack_user_id
        shown.append(f"<@{person.slack_user_id}>" if mention and person else (esc(name) if mrkdwn else name))
    quote = esc if mrkdwn else str
    group = f" ({quote(handed.group)})" if handed.group else ""
    who = ", ".join(shown) or quote(f"nobody (no one is in {handed.group})" if handed.group else "nobody")
    how = f"; paged through {', '.join(handed.paged)}" if handed.paged else ""
    team = f"{handed.team} on-call" if handed.team else "on-call"
    why = f" Why: {quote(handed.reason)}" if handed.reason else ""
    return f":sos: Handed to {quote(team)}: {who}{group}{quote(how)}.{why}"


def hand_off_blocks(
    handed: HandedOff,
    case_id: str,
    directory: Directory,
    taken_by: str | None = None,
    usergroup: str | None = None,
) -> list[Block]:
    blocks = [_section(hand_off_text(handed, directory, mrkdwn=True, usergroup=usergroup))]
    if taken_by:
        blocks.append(_context(f":raising_hand: {esc(taken_by)} has it."))
    else:
        blocks.append({"type": "actions", "elements": [_button("Take it", TAKE, case_id, "primary")]})
    return blocks


def postmortem_chunks(pm: PostMortem, limit: int = 2900) -> list[str]:
    """The Markdown as Slack mrkdwn (headings in bold), in pieces that fit a section block."""
    lines = []
    for line in render_markdown(pm).splitlines():
        text = esc(line)
        if line.startswith("#"):
            text = f"*{esc(line.lstrip('#').strip())}*"
        elif line.startswith("- [ ] "):
            text = "☐ " + esc(line[6:])
        elif line.startswith("- "):
            text = "• " + esc(line[2:])
        lines.append(text)
    chunks, current = [], ""
    for line in lines:
        if len(current) + len(line) + 1 > limit:
            chunks.append(current)
            current = ""
        current += line + "\n"
    return [*chunks, current] if current.strip() else chunks


class Notices:
    """Follows the change feed and posts each case's notices, reading the trail through the front desk."""

    def __init__(
        self,
        front: FrontDesk,
        client: AsyncWebClient,
        *,
        channel: str | None,
        remember: Callable[[str], bool],
        retry_seconds: float = RETRY_SECONDS,
    ) -> None:
        self._front = front
        self._client = client
        self._directory = front.directory
        self._owners = front.owners
        self._channel = channel
        self._remember = remember
        self._seen: Recent[str, int] = Recent(FOLLOWED_CASES)  # case id → the newest entry read
        self._retry_seconds = retry_seconds
        self._waiting: dict[tuple[str, int], asyncio.TimerHandle] = {}  # (case id, seq) → its next try
        self._trying: set[asyncio.Task[None]] = set()  # retries being posted (held, so none is collected midway)

    async def follow(self, queue: asyncio.Queue[str]) -> None:
        while (case_id := await queue.get()) != CLOSED:
            try:
                await self.sync(case_id)
            except Exception:  # the edge of a background job: log with the case id, keep following
                log.exception("case %s: Slack notices failed", case_id)

    async def sync(self, case_id: str) -> None:
        entries = await asyncio.to_thread(self._front.audit, case_id, self._seen.get(case_id) or 0)
        fresh = [e for e in entries if e.kind in KINDS]
        if entries:
            self._seen.put(case_id, entries[-1].seq)
        if not fresh:
            return
        case = await asyncio.to_thread(self._front.case, case_id)
        for entry in fresh:
            if await asyncio.to_thread(self._remember, f"slack:notice:{entry.seq}"):
                await self._post(case, entry)

    @property
    def waiting(self) -> int:
        """Failed notices waiting to be tried again."""
        return len(self._waiting)

    def close(self) -> None:
        """Forget the notices waiting to be tried again (the process is stopping)."""
        for timer in self._waiting.values():
            timer.cancel()
        self._waiting.clear()
        for task in self._trying:
            task.cancel()

    async def _post(self, case: Case, entry: AuditEntry, attempt: int = 1) -> None:
        try:
            await self._send(case, entry)
        except FAILURES as exc:
            self._failed(case.id, entry.seq, attempt, exc)

    def _failed(self, case_id: str, seq: int, attempt: int, exc: BaseException) -> None:
        key = (case_id, seq)
        if attempt >= ATTEMPTS or (key not in self._waiting and len(self._waiting) >= PENDING_LIMIT):
            self._waiting.pop(key, None)
            why = f"after {attempt} attempts" if attempt >= ATTEMPTS else f"{PENDING_LIMIT} notices already waiting"
            log.error("case %s: Slack notice %d failed (%s); given up (%s)", case_id, seq, exc, why)
            return
        delay = min(self._retry_seconds * 2 ** (attempt - 1), RETRY_MAX_SECONDS)
        log.warning("case %s: Slack notice %d failed (%s); trying again in %.0f s", case_id, seq, exc, delay)
        self._waiting[key] = asyncio.get_running_loop().call_later(delay, self._again, case_id, seq, attempt + 1)

    def _again(self, case_id: str, seq: int, attempt: int) -> None:
        self._waiting.pop((case_id, seq), None)
        task = asyncio.get_running_loop().create_task(self._retry(case_id, seq, attempt), name=f"slack-notice-{seq}")
        self._trying.add(task)
        task.add_done_callback(self._trying.discard)

    async def _retry(self, case_id: str, seq: int, attempt: int) -> None:
        try:
            case = await asyncio.to_thread(self._front.case, case_id)
            entries = await asyncio.to_thread(self._front.audit, case_id, seq - 1)
        except Exception as exc:  # the edge of a background job: the store failed; count it as a failed attempt
            log.warning("case %s: reading Slack notice %d to try it again failed", case_id, seq, exc_info=True)
            self._failed(case_id, seq, attempt, exc)
            return
        entry = next((e for e in entries if e.seq == seq), None)
        if entry is None:
            log.error("case %s: Slack notice %d is no longer in the audit trail; given up", case_id, seq)
            return
        await self._post(case, entry, attempt)

    def channel_for(self, team: str | None) -> str | None:
        own = self._owners.team(team).slack_channel if self._owners is not None and team else None
        return own or self._channel

    async def _send(self, case: Case, entry: AuditEntry) -> None:
        where = thread_of(case) if case.surface == "slack" else None
        match parse(entry):
            case ActedAlone() as alone:
                channel = self.channel_for(alone.team)
                if channel is None:
                    log.info("case %s: no Slack channel to announce %s in", case.id, alone.run_key)
                    return
                text = acted_alone_text(alone, case.id)
                blocks = acted_alone_blocks(alone, case.id)
                await self._client.chat_postMessage(channel=channel, text=text, blocks=blocks)
            case HandedOff() as handed if where is not None:  # hand-offs belong in the case's own thread
                team = self._owners.team(handed.team) if self._owners is not None and handed.team else None
                usergroup = team.slack_usergroup if team is not None else None
                text = hand_off_text(handed, self._directory)
                blocks = hand_off_blocks(handed, case.id, self._directory, usergroup=usergroup)
                await self._client.chat_postMessage(channel=where[0], thread_ts=where[1], text=text, blocks=blocks)
            case Postmortem() if where is not None:  # so do post-mortems
                pm = stored_postmortem([entry])
                if pm is None:
                    return
                blocks = [_section(chunk) for chunk in postmortem_chunks(pm)][:50]
                text = f"Post-mortem of {case.id}: {pm.summary}"
                await self._client.chat_postMessage(channel=where[0], thread_ts=where[1], text=text, blocks=blocks)
