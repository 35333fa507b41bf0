"""The onboarding form as an Adaptive Card: `onboard` (alone) in a chat with the bot answers with it; its
Onboard button (Action.Execute, verb ``onboard``) sends the fields, which are checked before anything runs. A
card with bad fields comes back with each problem under its field and the values kept."""

from __future__ import annotations

from datetime import date

from pydantic import JsonValue

from actiondesk.agents.fulfilment import HireForm
from actiondesk.core.fulfilment import Role

ONBOARD = "onboard"
INPUTS = ("name", "role", "start", "manager", "username", "email")
FIELD_OF = {"username": "user"}  # card input id -> form field, where they differ


def _error(fields: dict[str, str], key: str) -> list[JsonValue]:
    problem = fields.get(FIELD_OF.get(key, key))
    if not problem:
        return []
    return [{"type": "TextBlock", "text": problem, "color": "Attention", "size": "Small", "wrap": True,
             "spacing": "None"}]  # fmt: skip


def onboarding_card(
    roles: list[Role], today: date, values: dict[str, str] | None = None, fields: dict[str, str] | None = None
) -> dict[str, JsonValue]:
    values, fields = values or {}, fields or {}
    body: list[JsonValue] = [{"type": "TextBlock", "text": "Onboard a new hire", "weight": "Bolder", "size": "Medium"}]

    def text(key: str, label: str, placeholder: str = "", style: str | None = None) -> None:
        element: dict[str, JsonValue] = {"type": "Input.Text", "id": key, "label": label, "value": values.get(key, "")}
        if placeholder:
            element["placeholder"] = placeholder
        if style:
            element["style"] = style
        body.append(element)
        body.extend(_error(fields, key))

    text("name", "Full name", "Jane Doe")
    body.append(
        {
            "type": "Input.ChoiceSet",
            "id": "role",
            "label": "Role",
            "value": values.get("role", ""),
            "choices": [{"title": r.title or r.name, "value": r.name} for r in roles],
        }
    )
    body.extend(_error(fields, "role"))
    body.append({"type": "Input.Date", "id": "start", "label": "Start date",
                 "value": values.get("start") or today.isoformat()})  # fmt: skip
    body.extend(_error(fields, "start"))
    text("manager", "Manager (directory name)", "bob")
    text("username", "User name (optional)", "jdoe")
    text("email", "Work email (optional)", "jane.doe@example.com", style="Email")
    actions: list[JsonValue] = [
        {"type": "Action.Execute", "title": "Onboard", "verb": ONBOARD, "data": {"verb": ONBOARD}},
    ]
    return {"type": "AdaptiveCard", "$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "version": "1.5",
            "body": body, "actions": actions}  # fmt: skip


def submitted(data: dict[str, object]) -> tuple[HireForm, dict[str, str]]:
    """The form and the raw values (to show again) from an Action.Execute / Action.Submit's data."""
    values = {k: str(data.get(k) or "").strip()[:200] for k in INPUTS}
    form = HireForm(
        name=values["name"],
        role=values["role"],
        start=values["start"],
        manager=values["manager"],
        user=values["username"],
        email=values["email"],
    )
    return form, values
