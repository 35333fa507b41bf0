"""`actiondesk compensate CASE` and `actiondesk handoff CASE`: what a stopped onboarding or offboarding offers."""

from __future__ import annotations

import getpass

import typer

from actiondesk.agents.desk import FrontDesk
from actiondesk.bot.cli.actions import _fail
from actiondesk.core.errors import ActionDeskError
from actiondesk.core.settings import Settings


def _front(settings: Settings) -> FrontDesk:
    from actiondesk.bot.scenario.runner import scenario_policy
    from actiondesk.bot.wiring.boot import serve_estate
    from actiondesk.bot.wiring.root import build_runtime, open_store
    from actiondesk.core.clock import SystemClock

    clock = SystemClock()
    store = open_store(settings)
    estate, scenario = serve_estate(settings, store, clock)
    return build_runtime(settings, store, estate, clock, scenario_policy(scenario, settings)).front


def compensate_command(settings: Settings, case_id: str, by: str | None) -> None:
    """Open (and drive) the case that undoes a stopped request's completed steps, each through policy."""
    try:
        front = _front(settings)
        case = front.drive(front.compensate(case_id, by or getpass.getuser()).id)
    except ActionDeskError as exc:
        raise _fail(exc) from None
    typer.echo(f"case {case.id}: {case.title} — {case.status.value}")
    for approval in front.approvals_of(case.id):
        typer.echo(f"  approval {approval.id} from {approval.group}: {approval.status.value}")


def handoff_command(settings: Settings, case_id: str, by: str | None) -> None:
    """Give a stopped request to a person (its ticket goes to the assignment group)."""
    try:
        case = _front(settings).hand_off(case_id, by or getpass.getuser())
    except ActionDeskError as exc:
        raise _fail(exc) from None
    typer.echo(f"case {case.id}: {case.status.value}")
