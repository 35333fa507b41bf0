"""`actiondesk actions ...` and `actiondesk rollback`: the action space from the command line."""

from __future__ import annotations

import getpass
import json
from pathlib import Path
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
    from actiondesk.bot.scenario.runner import scenario_policy
    from actiondesk.bot.wiring.boot import serve_estate
    from actiondesk.bot.wiring.root import build_runtime, open_store
    from actiondesk.core.clock import SystemClock

    clock = SystemClock()
    try:
        store = open_store(settings)
        estate, scenario = serve_estate(settings, store, clock)
        runtime = build_runtime(settings, store, estate, clock, scenario_policy(scenario, settings))
        front = runtime.front
        case = front.drive(front.rollback(run_key, by or getpass.getuser()).id)
    except ActionDeskError as exc:
        raise _fail(exc) from None
    if as_json:
        typer.echo(case.model_dump_json(indent=2))
        return
    typer.echo(f"case {case.id}: {case.title} — {case.status.value}")
    for approval in front.approvals_of(case.id):
        typer.echo(f"  approval {approval.id} from {approval.group}: {approval.status.value}")


RunKey = Annotated[str, typer.Argument(help="The action run's id (its idempotency key, e.g. C-1a2b3c/step-0).")]
By = Annotated[str | None, typer.Option("--by", help="Who asks for the rollback (default: the OS user).")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _rows(settings: Settings) -> list[dict[str, object]]:
    from actiondesk.bot.wiring.systems import plan_packs

    rows: list[dict[str, object]] = []
    for plan in plan_packs(settings):
        pack = plan.pack
        granted = frozenset(settings.granted_scopes.get(pack.name, pack.scopes))
        for spec in pack.actions:
            state = plan.why or ("enabled" if spec.scope in granted else f"refused: scope {spec.scope} not granted")
            rows.append(
                {
                    "name": spec.name,
                    "pack": pack.name,
                    "service_account": pack.service_account or pack.name,
                    "scope": spec.scope,
                    "risk": spec.risk.value,
                    "destructive": spec.destructive,
                    "state": state,
                    "description": spec.description,
                }
            )
    return sorted(rows, key=lambda r: (str(r["pack"]), str(r["name"])))


@actions_app.command("list")
def actions_list(as_json: AsJson = False) -> None:
    """Every action of every known pack, and whether it is enabled here."""
    from actiondesk.bot.cli.support import load_settings as _settings

    try:
        rows = _rows(_settings())
    except ActionDeskError as exc:
        raise _fail(exc) from None
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    typer.echo(f"{'ACTION':<24} {'PACK':<12} {'SCOPE':<18} {'RISK':<20} STATE")
    for r in rows:
        flags = f"{r['risk']}{', destructive' if r['destructive'] else ''}"
        typer.echo(f"{r['name']:<24} {r['pack']:<12} {r['scope']:<18} {flags:<20} {r['state']}")


@actions_app.command("show")
def actions_show(name: Annotated[str, typer.Argument(help="The action's name.")], as_json: AsJson = False) -> None:
    """One action's contract: pack, service account, scope, risk, and the parameters a planner must fill."""
    from actiondesk.bot.cli.support import load_settings as _settings
    from actiondesk.bot.wiring.systems import plan_packs

    try:
        plans = plan_packs(_settings())
    except ActionDeskError as exc:
        raise _fail(exc) from None
    found = [(plan, spec) for plan in plans for spec in plan.pack.actions if spec.name == name]
    if not found:
        known = sorted(spec.name for plan in plans for spec in plan.pack.actions)
        raise _fail(f"unknown action {name!r}; the catalog has {', '.join(known)}")
    plan, spec = found[0]
    shown = {
        "name": spec.name,
        "description": spec.description,
        "pack": plan.pack.name,
        "service_account": plan.pack.service_account or plan.pack.name,
        "credential": plan.pack.credential,
        "scope": spec.scope,
        "risk": spec.risk.value,
        "mutating": spec.mutating,
        "destructive": spec.destructive,
        "state": plan.why or "enabled",
        "parameters": spec.input_model.model_json_schema(),
    }
    if as_json:
        typer.echo(json.dumps(shown, indent=2))
        return
    for key, value in shown.items():
        if key != "parameters":
            typer.echo(f"{key}: {value}")
    typer.echo("parameters:")
    schema = shown["parameters"]
    assert isinstance(schema, dict)
    required = set(schema.get("required", []))
    for param, info in schema.get("properties", {}).items():
        typer.echo(f"  {param}{'' if param in required else ' (optional)'}: {info.get('description', '')}")


@actions_app.command("validate")
def actions_validate(
    path: Annotated[Path | None, typer.Argument(help="A pack file; default: every configured pack.")] = None,
    as_json: AsJson = False,
) -> None:
    """Check a pack file against its OpenAPI document, or every configured pack and its credential."""
    from actiondesk.actions.declarative import check, read_pack_file
    from actiondesk.bot.cli.support import load_settings as _settings
    from actiondesk.bot.wiring.systems import plan_packs

    problems: list[str] = []
    packs: list[str] = []
    try:
        if path is not None:
            pack_file, document = read_pack_file(path)
            problems = [f"{path}: {p}" for p in check(pack_file, document)]
            packs = [pack_file.pack]
        else:
            packs = [p.pack.name for p in plan_packs(_settings()) if p.enabled]
    except ActionDeskError as exc:
        problems = [str(exc)]
    ok = not problems
    if as_json:
        typer.echo(json.dumps({"ok": ok, "packs": packs, "problems": problems}, indent=2))
    elif ok:
        typer.echo(f"ok: {', '.join(packs)}")
    else:
        for problem in problems:
            typer.echo(f"error: {problem}", err=True)
    raise typer.Exit(0 if ok else 1)
