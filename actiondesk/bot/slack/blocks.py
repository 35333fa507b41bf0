"""Block Kit for the status message, the approval cards and the agent's questions.

Everything on a card is computed from the stored Approval (action, target, parameters, policy reasons and
ids, approver group, expiry); nothing a model wrote is shown as fact. A question's buttons carry the case, the
question and the choice; the server checks all three against the case before taking the click.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from actiondesk.agents.fulfilment.checklist import line as checklist_line
from actiondesk.agents.questions import Question
from actiondesk.core.approval import Approval, ApprovalStatus
from actiondesk.core.case import Case, CaseStatus
from actiondesk.core.plan import StepStatus

Block = dict[str, Any]

APPROVE = "approve"
REJECT = "reject"
REJECT_CONFIRM = "reject_confirm"
REJECT_VIEW = "reject_reason"
REASON_BLOCK = "reason"
REASON_INPUT = "reason_input"
# A question's buttons: choose:0, choose:1, ... (Block Kit wants action ids unique within a block).
CHOOSE = re.compile(r"^choose:\d+$")
BUTTONS_PER_BLOCK = 25  # Block Kit's limit for one actions block

STATUS_MARK = {
    CaseStatus.OPEN: ":inbox_tray:",
    CaseStatus.TRIAGING: ":mag:",
    CaseStatus.WATCHING: ":eyes:",
    CaseStatus.AWAITING_REPLY: ":speech_balloon:",
    CaseStatus.PLANNING: ":memo:",
    CaseStatus.AWAITING_APPROVAL: ":raised_hand:",
    CaseStatus.ACTING: ":gear:",
    CaseStatus.VERIFYING: ":hourglass_flowing_sand:",
    CaseStatus.SCHEDULED: ":calendar:",
    CaseStatus.RESOLVED: ":white_check_mark:",
    CaseStatus.ESCALATED: ":sos:",
    CaseStatus.FAILED: ":x:",
}
STEP_MARK = {
    StepStatus.PROPOSED: ":white_circle:",
    StepStatus.AWAITING_APPROVAL: ":raised_hand:",
    StepStatus.APPROVED: ":large_blue_circle:",
    StepStatus.RUNNING: ":gear:",
    StepStatus.SUCCEEDED: ":white_check_mark:",
    StepStatus.FAILED: ":x:",
    StepStatus.REFUSED: ":no_entry:",
    StepStatus.SUGGESTED: ":bulb:",
    StepStatus.NOT_RUN: ":heavy_minus_sign:",
}


def esc(text: object) -> str:
    """Escape for mrkdwn: Slack reads &, < and > as control characters."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def utc(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC")


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}


def _context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text[:3000]}]}


def call_text(action: str, params: dict[str, Any]) -> str:
    shown = ", ".join(f"{k}={json.dumps(v) if not isinstance(v, str) else v}" for k, v in params.items())
    return f"{action} {shown}".strip()


def status_line(case: Case) -> str:
    return f"{STATUS_MARK[case.status]} *{esc(case.id)}* · {case.kind.value} · *{case.status.value.replace('_', ' ')}*"


def status_blocks(case: Case, latest: str | None) -> list[Block]:
    blocks = [_section(f"{status_line(case)}\n>{esc(case.title)}")]
    if case.finding is not None:
        blocks.append(_section(f"*Finding:* {esc(case.finding.summary)}"))
    if case.plan is not None:
        lines = [
            f"{STEP_MARK[s.status]} {esc(checklist_line(s))}"  # a request's checklist, ticked in place
            if s.agent
            else f"{STEP_MARK[s.status]} `{esc(call_text(s.call.action, dict(s.call.params)))}` — {s.status.value}"
            for s in case.plan.steps
        ]
        blocks.append(_section(f"*Plan ({esc(case.plan.runbook)}):* {esc(case.plan.goal)}\n" + "\n".join(lines)))
    if latest:
        blocks.append(_context(esc(latest)))
    return blocks


def status_text(case: Case, latest: str | None) -> str:
    """The notification and fallback text of the status message, escaped like the blocks (it is mrkdwn too)."""
    head = f"{case.id} ({case.status.value.replace('_', ' ')}): {esc(case.title)}"
    return f"{head}. {esc(latest)}" if latest else head


def card_text(approval: Approval) -> str:
    call = call_text(approval.call.action, dict(approval.call.params))
    return esc(f"Approval {approval.status.value}: {call} on {approval.target}")


def card_blocks(approval: Approval) -> list[Block]:
    call = call_text(approval.call.action, dict(approval.call.params))
    params = "\n".join(f"{esc(k)} = {esc(v)}" for k, v in approval.call.params.items()) or "(none)"
    reasons = "\n".join(f"• {esc(r)}" for r in approval.reasons) or "• (none given)"
    policies = ", ".join(f"`{esc(p)}`" for p in approval.policy_ids) or "(none)"
    blocks: list[Block] = [
        _section(f":raised_hand: *Approval {approval.status.value}* for case *{esc(approval.case_id)}*"),
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": f"*Action*\n`{esc(approval.call.action)}`"},
                {"type": "mrkdwn", "text": f"*Target*\n`{esc(approval.target)}`"},
                {"type": "mrkdwn", "text": f"*Approvers*\n{esc(approval.group or '(nobody)')}"},
                {"type": "mrkdwn", "text": f"*Expires*\n{utc(approval.expires_at)}"},
            ],
        },
        _section(f"*Parameters*\n```{params}```\n*Exact call:* `{esc(call)}`"),
        _section(f"*Why policy asks*\n{reasons}\n*Policy:* {policies}"),
    ]
    match approval.status:
        case ApprovalStatus.PENDING:
            blocks.append(
                {
                    "type": "actions",
                    "block_id": "decision",
                    "elements": [
                        _button("Approve", APPROVE, approval.id, "primary"),
                        _button("Reject", REJECT, approval.id, "danger"),
                    ],
                }
            )
        case ApprovalStatus.APPROVED:
            blocks.append(_context(f":white_check_mark: Approved by *{esc(approval.decided_by)}*{_when(approval)}"))
        case ApprovalStatus.REJECTED:
            why = f": {esc(approval.reason)}" if approval.reason else ""
            blocks.append(_context(f":no_entry: Rejected by *{esc(approval.decided_by)}*{_when(approval)}{why}"))
        case ApprovalStatus.EXPIRED:
            blocks.append(
                _context(
                    f":hourglass: Expired at {utc(approval.expires_at)}. Nobody approved it in time; it will not run."
                )
            )
    return blocks


def _when(approval: Approval) -> str:
    return f" at {utc(approval.decided_at)}" if approval.decided_at else ""


def _button(text: str, action_id: str, value: str, style: str) -> Block:
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": text},
        "action_id": action_id,
        "value": value,
        "style": style,
    }


def reason_input() -> Block:
    return {
        "type": "input",
        "block_id": REASON_BLOCK,
        "label": {"type": "plain_text", "text": "Why reject it?"},
        "element": {"type": "plain_text_input", "action_id": REASON_INPUT, "multiline": True, "max_length": 500},
    }


def reject_modal(approval: Approval, metadata: str) -> Block:
    call = call_text(approval.call.action, dict(approval.call.params))
    return {
        "type": "modal",
        "callback_id": REJECT_VIEW,
        "private_metadata": metadata,
        "title": {"type": "plain_text", "text": "Reject the change"},
        "submit": {"type": "plain_text", "text": "Reject"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [_section(f"Reject `{esc(call)}` on `{esc(approval.target)}`?"), reason_input()],
    }


def reject_prompt(approval: Approval) -> list[Block]:
    """The ephemeral fallback when the modal cannot open (its trigger_id expired)."""
    call = call_text(approval.call.action, dict(approval.call.params))
    return [
        _section(f"Reject `{esc(call)}` on `{esc(approval.target)}`? Give a reason:"),
        {**reason_input(), "dispatch_action": False},
        {
            "type": "actions",
            "elements": [_button("Reject with this reason", REJECT_CONFIRM, approval.id, "danger")],
        },
    ]


class Choice(BaseModel):
    """What a question's button carries (its ``value``): untrusted until checked against the case."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    case: str = Field(min_length=1, max_length=64)
    question: int = Field(ge=1)
    choice: str = Field(min_length=1, max_length=200)


def question_text(question: Question) -> str:
    return question.text if question.open else f"{question.text} {question.outcome()}"


def question_blocks(question: Question) -> list[Block]:
    """Open: the question and one button per choice. Closed: the question and how it ended, no buttons."""
    blocks = [_section(f":speech_balloon: {esc(question.text)}")]
    if not question.open:
        return [*blocks, _context(esc(question.outcome()))]
    buttons = [
        {
            "type": "button",
            "text": {"type": "plain_text", "text": choice[:75]},
            "action_id": f"choose:{i}",
            "value": Choice(case=question.case_id, question=question.seq, choice=choice).model_dump_json(),
        }
        for i, choice in enumerate(question.choices)
    ]
    for start in range(0, len(buttons), BUTTONS_PER_BLOCK):
        blocks.append(
            {
                "type": "actions",
                "block_id": f"question-{question.seq}-{start // BUTTONS_PER_BLOCK}",
                "elements": buttons[start : start + BUTTONS_PER_BLOCK],
            }
        )
    return [*blocks, _context("Or answer in this thread in your own words.")]
