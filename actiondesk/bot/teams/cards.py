"""Adaptive Cards for Teams: the case card (updated in place), the approval card and the question card
(Universal Actions).

Everything shown is computed from stored data — the exact call, target, parameters, policy reasons and
expiry — never from a model's words. Approve, Reject and each answer to a question are ``Action.Execute`` (an
``adaptiveCard/action`` invoke) with an ``Action.Submit`` fallback for clients without Universal Actions.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from actiondesk.agents.fulfilment.checklist import line as checklist_line
from actiondesk.agents.questions import Question
from actiondesk.core.approval import Approval, ApprovalStatus
from actiondesk.core.audit_payloads import ActedAlone
from actiondesk.core.case import Case

CARD = "application/vnd.microsoft.card.adaptive"
SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
VERBS = ("approve", "reject")
ANSWER = "answer"  # the verb of a question's buttons
ACTIONS_PER_SET = 5  # Teams shows at most 6 actions in one set; more choices go in further sets
MARK = {"succeeded": "✔", "failed": "✖", "refused": "✖", "running": "…", "awaiting_approval": "⏳"}


def _card(body: list[JsonValue], actions: list[JsonValue] | None = None) -> dict[str, JsonValue]:
    card: dict[str, JsonValue] = {"type": "AdaptiveCard", "$schema": SCHEMA, "version": "1.5", "body": body}
    if actions:
        card["actions"] = actions
    return card


def _facts(pairs: list[tuple[str, str]]) -> dict[str, JsonValue]:
    return {"type": "FactSet", "facts": [{"title": t, "value": v} for t, v in pairs if v]}


def _text(text: str, **style: JsonValue) -> dict[str, JsonValue]:
    return {"type": "TextBlock", "text": text, "wrap": True, **style}


def attachment(card: dict[str, JsonValue]) -> dict[str, JsonValue]:
    return {"contentType": CARD, "content": card}


def case_card(case: Case) -> dict[str, JsonValue]:
    body: list[JsonValue] = [
        _text(f"Case {case.id}: {case.title}", weight="Bolder", size="Medium"),
        _facts([("Status", case.status.value), ("Service", case.service or ""), ("Reported by", case.reporter)]),
    ]
    if case.finding is not None:
        body.append(_text(case.finding.summary))
    if case.plan is not None:
        body.append(_text(f"Plan ({case.plan.runbook}): {case.plan.goal}", weight="Bolder"))
        for step in case.plan.steps:
            params = ", ".join(f"{k}={v}" for k, v in step.call.params.items())
            mark = MARK.get(step.status.value, "•")
            note = f" — {step.error}" if step.error else ""
            text = (
                checklist_line(step)
                if step.agent
                else f"{mark} {step.call.action} {params} ({step.status.value}){note}"
            )
            body.append(_text(text, spacing="None"))
    return _card(body)


def _approval_facts(approval: Approval) -> dict[str, JsonValue]:
    params = ", ".join(f"{k}={v}" for k, v in approval.call.params.items())
    return _facts(
        [
            ("Action", approval.call.action),
            ("Target", approval.target),
            ("Parameters", params),
            ("Approvers", approval.group),
            ("Why", "; ".join(approval.reasons)),
            ("Policies", ", ".join(approval.policy_ids)),
            ("Requested by", approval.requested_by),
            ("Expires", f"{approval.expires_at:%Y-%m-%d %H:%M} UTC"),
        ]
    )


def _button(title: str, verb: str, data: dict[str, JsonValue]) -> dict[str, JsonValue]:
    """An ``Action.Execute`` with an ``Action.Submit`` fallback that carries the verb in its data."""
    return {
        "type": "Action.Execute",
        "title": title,
        "verb": verb,
        "data": data,
        "fallback": {"type": "Action.Submit", "title": title, "data": {**data, "verb": verb}},
    }


def approval_card(approval: Approval) -> dict[str, JsonValue]:
    """Pending: the facts and two buttons. Decided or expired: the facts and who decided, no buttons."""
    title = f"Approval {approval.id} for case {approval.case_id}"
    body: list[JsonValue] = [_text(title, weight="Bolder", size="Medium"), _approval_facts(approval)]
    if approval.status is ApprovalStatus.PENDING:
        body.append({"type": "Input.Text", "id": "reason", "placeholder": "Reason (optional)", "maxLength": 500})
        data: dict[str, JsonValue] = {"approval_id": approval.id}
        return _card(body, [_button("Approve", "approve", data), _button("Reject", "reject", data)])
    if approval.status is ApprovalStatus.EXPIRED:
        body.append(_text("Expired: nobody decided in time; this action will not run.", color="Warning"))
    else:
        at = f" at {approval.decided_at:%Y-%m-%d %H:%M} UTC" if approval.decided_at else ""
        reason = f": {approval.reason}" if approval.reason else ""
        color = "Good" if approval.status is ApprovalStatus.APPROVED else "Attention"
        body.append(_text(f"{approval.status.value.capitalize()} by {approval.decided_by}{at}{reason}", color=color))
    return _card(body)


def acted_alone_card(alone: ActedAlone, case_id: str, outcome: str | None = None) -> dict[str, JsonValue]:
    """An action that ran without approval: what ran, why it could, and a Roll back (through governance)."""
    shown = ", ".join(f"{k}={v}" for k, v in alone.params.items())
    why = f"level {alone.level if alone.level is not None else 'unknown'}"
    if alone.confidence is not None and alone.threshold is not None:
        why += f", diagnosis {alone.confidence:.0%} sure (threshold {alone.threshold:.0%})"
    run_key = alone.run_key or ""
    body: list[JsonValue] = [
        _text(f"ActionDesk ran {alone.action or 'an action'} on its own", weight="Bolder", size="Medium"),
        _facts(
            [
                ("Case", f"{case_id}: {alone.title or ''}"),
                ("Owner", alone.team or ""),
                ("Parameters", shown),
                ("Why it could", why),
                ("Result", (alone.status or "unknown") + (f": {alone.error}" if alone.error else "")),
                ("Run", run_key),
            ]
        ),
    ]
    if outcome is not None:
        body.append(_text(outcome, color="Accent"))
        return _card(body)
    if alone.status != "succeeded" or not run_key:
        return _card(body)
    body.append(_text(f"To undo it: Roll back (policy decides), or /actiondesk rollback {run_key}", isSubtle=True))
    data: dict[str, JsonValue] = {"run_key": run_key}
    roll_back: dict[str, JsonValue] = {
        "type": "Action.Execute",
        "title": "Roll back",
        "verb": "rollback",
        "data": data,
        "fallback": {"type": "Action.Submit", "title": "Roll back", "data": {**data, "verb": "rollback"}},
    }
    return _card(body, [roll_back])


def card_response(card: dict[str, JsonValue]) -> dict[str, JsonValue]:
    """The invoke response that replaces the clicked card."""
    return {"statusCode": 200, "type": CARD, "value": card}


def error_response(status: int, code: str, message: str) -> dict[str, JsonValue]:
    return {
        "statusCode": status,
        "type": "application/vnd.microsoft.error",
        "value": {"code": code, "message": message},
    }


class Choice(BaseModel):
    """The data of a question's button, merged into the invoke: untrusted until checked against the case."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    case_id: str = Field(min_length=1, max_length=64)
    question: int = Field(ge=1)
    choice: str = Field(min_length=1, max_length=200)


def question_card(question: Question) -> dict[str, JsonValue]:
    """Open: the question and one button per choice. Answered or closed: the question and how it ended."""
    body: list[JsonValue] = [_text(question.text, weight="Bolder")]
    if not question.open:
        color = "Good" if question.answered_by is not None else "Warning"
        body.append(_text(question.outcome(), color=color))
        return _card(body)
    buttons = [
        _button(choice, ANSWER, {"case_id": question.case_id, "question": question.seq, "choice": choice})
        for choice in question.choices
    ]
    for start in range(0, len(buttons), ACTIONS_PER_SET):
        body.append({"type": "ActionSet", "actions": list(buttons[start : start + ACTIONS_PER_SET])})
    body.append(_text("Or answer in this conversation in your own words.", isSubtle=True, size="Small"))
    return _card(body)
