"""`actiondesk actions ...` and `actiondesk rollback`: the action space from the command line."""

from __future__ import annotations

import getpass
from typing import Annotated

import typer

from actiondesk.core.errors import ActionDeskError
from actiondesk.core.settings import Settings

actions_app = typer.Typer(help="The action catalog: packs, actions, pack files.", no_args_is_help=True)


def _fail(exc: ActionDeskError | str) -> typer.Exit:
    typer.echo(f"error: {exc}", err=True)
    return typer.Exit(2)


def rollback_command(settings: Settings, run_key: str, by: str | None, as_json: bool) -> None:
    """Open a case running the inverse of a finished action run, drive it, print where it stands."""
    from actiondesk.bot.app import build_runtime, open_store
    from actiondesk.bot.boot import serve_estate
    from actiondesk.bot.scenario import scenario_policy
    from actiondesk.core.clock import SystemClock

    clock = SystemClock()
    try:
        store = open_store(settings)
        estate, scenario = serve_estate(settings, store, clock)
        runtime = build_runtime(settings, store, estate, clock, scenario_policy(scenario, settings))
        case = runtime.rollbacks.request(run_key, by or getpass.getuser())
        case = runtime.loop.run(case.id)
    except ActionDeskError as exc:
        raise _fail(exc) from None
    if as_json:
        typer.echo(case.model_dump_json(indent=2))
        return
    typer.echo(f"case {case.id}: {case.title} — {case.status.value}")
    for approval in runtime.store.approvals(case.id):
        typer.echo(f"  approval {approval.id} from {approval.group}: {approval.status.value}")


RunKey = Annotated[str, typer.Argument(help="The action run's id (its idempotency key, e.g. C-1a2b3c/step-0).")]
By = Annotated[str | None, typer.Option("--by", help="Who asks for the rollback (default: the OS user).")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]
