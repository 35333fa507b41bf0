"""`/actiondesk …`: acked at once by the listener; the work runs after the ack and answers via respond()."""

from __future__ import annotations

import asyncio
import logging
import re
import shlex
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from actiondesk.agents.desk import FrontDesk
from actiondesk.bot.reports.text import describe, metrics_lines
from actiondesk.bot.slack.blocks import status_line
from actiondesk.bot.slack.desk import SlackDesk
from actiondesk.bot.slack.requests import open_onboarding
from actiondesk.core.errors import ActionDeskError

log = logging.getLogger(__name__)

COMMAND = "/actiondesk"
HELP = """*ActionDesk* — `/actiondesk <command>`
• `status [7d|24h]` — open cases and the period's MTTR, first-contact resolution and cost · `status <case>`
• `audit <case>` — the case's audit trail and whether the chain verifies
• `rollback <action-id>` — undo a finished action run (its run key, e.g. `C-1a2b/step-0`); goes through policy
• `onboard` — the onboarding form · `compensate <case>` · `handoff <case>` — for a request that stopped part-way
• `freeze list` · `freeze add <name> <start> <end> [service …]` (ISO times, UTC if no zone) · `freeze end <name>`
• `chaos start <service> [hours]` · `chaos stop <service>` — suggest-only automation for a service
• `autonomy` · `autonomy <service|service@env|tier:N|env:NAME> <0-3>`
• `kill on <reason>` · `kill off` — stop or restart all autonomous action
• `help`"""

Reply = tuple[str, bool]  # text, whether the whole channel sees it


class Usage(ActionDeskError):
    """Raised when a command's words do not parse; the message is the usage to show."""


PERIOD = re.compile(r"(\d{1,3})([dh])")


def _days(text: str) -> float:
    """``7d`` or ``24h`` as days."""
    match = PERIOD.fullmatch(text)
    if match is None or int(match.group(1)) == 0:
        raise Usage("A period is a number of days or hours, like `7d` or `24h`.")
    number = int(match.group(1))
    return number if match.group(2) == "d" else number / 24


def when(text: str) -> datetime:
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise Usage(f"`{text}` is not an ISO date and time (like 2026-12-24T00:00Z)") from None
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


class Commands:
    def __init__(self, desk: SlackDesk) -> None:
        self.desk = desk

    @property
    def front(self) -> FrontDesk:
        return self.desk.front

    async def answer(self, body: dict[str, Any], respond: Callable[..., Awaitable[Any]]) -> None:
        words = _split(str(body.get("text", "")))
        verb = words[0].lower() if words else "help"
        user = str(body.get("user_id", ""))
        key = f"slack:command:{body.get('trigger_id')}"
        if verb != "help" and not await self.desk.first_time(key, "slack_command"):
            return
        try:
            person = await self.desk.identity.person(user)
            text, public = await self._run(verb, words[1:], person, body)
        except Usage as exc:
            text, public = f"{exc}\n\n{HELP}", False
        except ActionDeskError as exc:
            text, public = f"Refused: {exc}", False
        await respond(text=text, response_type="in_channel" if public else "ephemeral")

    async def _run(self, verb: str, args: list[str], person: str, body: dict[str, Any]) -> Reply:
        match verb:
            case "help":
                return HELP, False
            case "status":
                return await asyncio.to_thread(self._status, args)
            case "audit":
                return await asyncio.to_thread(self._audit, _one(args, "audit <case>"))
            case "rollback":
                return await self._rollback(_one(args, "rollback <action-id>"), person, body)
            case "onboard":
                await open_onboarding(self.desk, str(body.get("trigger_id", "")), str(body.get("channel_id", "")))
                return "The onboarding form is open.", False
            case "compensate":
                case_id = _one(args, "compensate <case>")
                case = await asyncio.to_thread(partial(self.front.compensate, case_id, person, surface="slack"))
                self.desk.worker.kick(case.id)
                return (
                    f"{person} asked to undo the completed steps of {case_id}: case {case.id} (policy decides).",
                    True,
                )
            case "handoff":
                case_id = _one(args, "handoff <case>")
                await asyncio.to_thread(self.front.hand_off, case_id, person)
                return f"{person} handed {case_id} to a person.", True
            case "freeze" | "chaos" | "autonomy" | "kill":
                return await asyncio.to_thread(self._control, verb, args, person)
            case _:
                raise Usage(f"Unknown command `{verb}`.")

    def _status(self, args: list[str]) -> Reply:
        if args and not PERIOD.fullmatch(args[0]):
            shown = self.front.status(args[0])
            case = shown.case
            lines = [status_line(case), f">{case.title}"]
            if case.finding is not None:
                lines.append(f"Finding: {case.finding.summary}")
            lines += [f"Approval {a.id}: {a.status.value} ({a.call.action} on {a.target})" for a in shown.approvals]
            return "\n".join(lines), False
        cases = self.front.open_cases(limit=20)
        lines = ["*Open cases*", *(status_line(c) + f" — {c.title}" for c in cases)] if cases else ["No open cases."]
        days = _days(args[0]) if args else 7.0
        lines += [f"*Last {args[0] if args else '7d'}*", *metrics_lines(self.desk.figures.last(days))]
        mirroring = self.desk.outbox()
        if mirroring:
            lines.append(mirroring)
        return "\n".join(lines), False

    def _audit(self, case_id: str) -> Reply:
        self.front.case(case_id)  # CaseNotFoundError for a wrong id
        entries = self.front.audit(case_id)
        verifies = self.front.audit_verifies()
        lines = [f"`{e.seq}` {e.at:%H:%M:%S} *{e.kind.value}* ({e.actor}) {describe(e)}" for e in entries[-20:]]
        head = f"*Audit of {case_id}*: {len(entries)} entries; chain {'verifies' if verifies else 'DOES NOT verify'}"
        return head + "\n" + "\n".join(lines), False

    async def _rollback(self, run_key: str, person: str, body: dict[str, Any]) -> Reply:
        case = await asyncio.to_thread(partial(self.front.rollback, run_key, person, surface="slack"))
        self.desk.worker.kick(case.id)
        return f"{person} asked to roll back `{run_key}`: case {case.id} is on it (policy decides).", True

    def _control(self, verb: str, args: list[str], person: str) -> Reply:
        controls = self.front.controls
        now = self.front.clock.now()
        sub = args[0].lower() if args else ""
        if verb == "freeze":
            if sub in ("", "list"):
                freezes = controls.state().freezes
                shown = [f"• {w.name}: {w.start:%Y-%m-%d %H:%M} → {w.end:%Y-%m-%d %H:%M} UTC" for w in freezes]
                return ("*Freezes*\n" + "\n".join(shown)) if shown else "No freeze is set.", False
            if sub == "add" and len(args) >= 4:
                controls.add_freeze(args[1], when(args[2]), when(args[3]), tuple(args[4:]), person)
                return f"{person} set the freeze *{args[1]}* from {args[2]} to {args[3]}.", True
            if sub == "end" and len(args) == 2:
                controls.end_freeze(args[1], person)
                return f"{person} ended the freeze *{args[1]}*.", True
            raise Usage("Usage: `freeze list`, `freeze add <name> <start> <end> [service …]`, `freeze end <name>`.")
        if verb == "chaos":
            if sub == "start" and len(args) in (2, 3):
                hours = _number(args[2]) if len(args) == 3 else 8.0
                until = now + timedelta(hours=hours)
                controls.start_chaos(args[1], until, person)
                return f"{person} started a chaos day for *{args[1]}* until {until:%Y-%m-%d %H:%M} UTC.", True
            if sub == "stop" and len(args) == 2:
                controls.stop_chaos(args[1], person)
                return f"{person} stopped the chaos day for *{args[1]}*.", True
            raise Usage("Usage: `chaos start <service> [hours]`, `chaos stop <service>`.")
        if verb == "autonomy":
            if not args:
                levels = controls.state().autonomy
                shown = [f"• `{k}`: {v}" for k, v in sorted(levels.items())]
                return ("*Autonomy overrides*\n" + "\n".join(shown)) if shown else "No autonomy overrides.", False
            if len(args) == 2 and args[1].isdigit():
                controls.set_autonomy(args[0], int(args[1]), person)
                return f"{person} set the autonomy of `{args[0]}` to {args[1]}.", True
            raise Usage("Usage: `autonomy <service|service@env|tier:N|env:NAME> <0-3>`.")
        if sub == "on" and len(args) >= 2:
            controls.set_kill_switch(True, person, " ".join(args[1:]))
            return f":octagonal_sign: {person} turned the kill switch ON: no autonomous action runs.", True
        if sub == "off" and len(args) == 1:
            controls.set_kill_switch(False, person, "")
            return f"{person} turned the kill switch off.", True
        raise Usage("Usage: `kill on <reason>`, `kill off`.")


def _split(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError:
        return text.split()


def _one(args: list[str], usage: str) -> str:
    if len(args) != 1:
        raise Usage(f"Usage: `{usage}`.")
    return args[0]


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise Usage(f"`{text}` is not a number of hours") from None
    if not 0 < value <= 24 * 14:
        raise Usage("A chaos day lasts between a few minutes and two weeks.")
    return value
