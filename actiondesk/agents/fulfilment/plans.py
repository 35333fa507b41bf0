"""The plans of a request: onboarding fans out to the Identity, Hardware and Access agents' steps; offboarding
runs the same machinery in reverse. Each step is one catalog call the loop governs and the executor runs."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from pydantic import JsonValue

from actiondesk.core.fulfilment import HardwareOrder, Hire, Leaver, OrderKind, Role
from actiondesk.core.plan import ActionCall, Plan, PlanStep

ONBOARDING = "onboarding"
OFFBOARDING = "offboarding"
COMPENSATION = "compensation"
AGENTS = {
    "create_account": "identity",
    "enable_account": "identity",
    "disable_account": "identity",
    "order_hardware": "hardware",
    "return_hardware": "hardware",
    "cancel_hardware_order": "hardware",
    "add_to_group": "access",
    "remove_from_group": "access",
}


def day_start(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=UTC)


def _step(index: int, action: str, params: dict[str, JsonValue], why: str, at: datetime | None = None) -> PlanStep:
    return PlanStep(
        index=index,
        call=ActionCall(action=action, params=params),
        rationale=why,
        agent=AGENTS.get(action),
        not_before=at,
    )


def onboarding_plan(hire: Hire, role: Role, today: date) -> Plan:
    name = f"{hire.given_name} {hire.family_name}"
    steps: list[PlanStep] = []

    def add(action: str, params: dict[str, JsonValue], why: str, at: datetime | None = None) -> None:
        steps.append(_step(len(steps), action, params, why, at))

    add(
        "create_account",
        {
            "user": hire.user,
            "given_name": hire.given_name,
            "family_name": hire.family_name,
            "email": hire.email,
            "start_date": hire.start.isoformat(),
            "manager": hire.manager,
            "title": role.title or role.name,
            "licences": list(role.licences),
        },
        f"{name}'s account and mailbox {hire.email}, active from {hire.start.isoformat()}",
    )
    for item in role.hardware:
        add(
            "order_hardware",
            {"user": hire.user, "item": item.item, "quantity": item.quantity, "start_date": hire.start.isoformat()},
            f"the {role.name} bundle: {item.quantity} x {item.description or item.item}",
        )
    for group in role.groups:
        owner = role.privileged.get(group)
        why = f"{role.name} works in {group}" + (f" (privileged: {owner} approves)" if owner else "")
        add("add_to_group", {"user": hire.user, "group": group}, why)
    if hire.start > today:
        add(
            "enable_account",
            {"user": hire.user},
            f"{name} starts on {hire.start.isoformat()}: the account is switched on that morning",
            day_start(hire.start),
        )
    goal = f"onboard {name} ({hire.user}) as {role.name}, starting {hire.start.isoformat()}, manager {hire.manager}"
    return Plan(runbook=ONBOARDING, goal=goal, steps=tuple(steps))


def offboarding_plan(leaver: Leaver, groups: list[str], orders: list[HardwareOrder]) -> Plan:
    after = day_start(leaver.last_day + timedelta(days=1))
    steps: list[PlanStep] = []

    def add(action: str, params: dict[str, JsonValue], why: str, at: datetime | None = None) -> None:
        steps.append(_step(len(steps), action, params, why, at))

    for order in orders:
        if order.kind is OrderKind.ORDER and order.active:
            add(
                "return_hardware",
                {"user": leaver.user, "order": order.key, "last_day": leaver.last_day.isoformat()},
                f"collect {order.quantity} x {order.item} ({order.number}) on the last day",
            )
    add("disable_account", {"user": leaver.user}, f"{leaver.user}'s last day is {leaver.last_day.isoformat()}", after)
    for group in groups:
        add("remove_from_group", {"user": leaver.user, "group": group}, f"{leaver.user} leaves {group}", after)
    goal = f"offboard {leaver.user}, last day {leaver.last_day.isoformat()}"
    return Plan(runbook=OFFBOARDING, goal=goal, steps=tuple(steps))


def compensation_plan(case_id: str, inverses: list[ActionCall]) -> Plan:
    steps = tuple(
        _step(i, call.action, dict(call.params), f"undo a completed step of {case_id}")
        for i, call in enumerate(inverses)
    )
    return Plan(runbook=COMPENSATION, goal=f"undo the completed steps of {case_id}", steps=steps)
