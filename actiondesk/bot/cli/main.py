"""The `actiondesk` command line."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from actiondesk.bot.cli.actions import AsJson, By, RunKey, actions_app, rollback_command
from actiondesk.bot.cli.outbox import outbox_app
from actiondesk.bot.cli.policy import policy_app
from actiondesk.bot.cli.services import services_app
from actiondesk.bot.cli.support import fail, load_settings
from actiondesk.bot.cli.teams import teams_app
from actiondesk.bot.cli.tokens import token_app
from actiondesk.bot.wiring.logs import announce
from actiondesk.core.errors import ActionDeskError, AuditIntegrityError, ConfigurationError

app = typer.Typer(
    help="ActionDesk: a ChatOps bot that turns the service desk into a system of action.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help: a boolean flag reads `--json`, not `--json <bool>` as rich help shows it
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
audit_app = typer.Typer(help="The tamper-evident audit trail.", no_args_is_help=True)
scenario_app = typer.Typer(help="Sandbox scenarios.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(audit_app, name="audit")
app.add_typer(scenario_app, name="scenario")
app.add_typer(actions_app, name="actions")
app.add_typer(teams_app, name="teams")
app.add_typer(outbox_app, name="outbox")
app.add_typer(policy_app, name="policy")
app.add_typer(token_app, name="token")
app.add_typer(services_app, name="services")

log = logging.getLogger("actiondesk")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Listen address (ACTIONDESK_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Listen port; 0 picks a free one (ACTIONDESK_PORT).")] = None,
) -> None:
    """Run the server: web console, API and background jobs. Upgrades the database first."""
    from actiondesk.bot.server.serve import run_server
    from actiondesk.bot.wiring.telemetry import configure_tracing, shutdown_tracing

    settings = load_settings(host=host, port=port)
    try:
        provider = configure_tracing(settings)
    except ActionDeskError as exc:
        raise fail(exc, settings) from None
    try:
        asyncio.run(run_server(settings))
    except ActionDeskError as exc:
        raise fail(exc, settings) from None
    except KeyboardInterrupt:
        pass
    finally:
        shutdown_tracing(provider)  # sends the spans still batched


@app.command()
def healthcheck(
    path: Annotated[str, typer.Option(help="/healthz (alive) or /readyz (ready to take traffic).")] = "/healthz",
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the answer.")] = 4.0,
) -> None:
    """Ask the server running here (ACTIONDESK_HOST/PORT) whether it is healthy; exit 0 if so, else 1.

    For a container's HEALTHCHECK: no curl needed in the image.
    """
    import httpx

    settings = load_settings()
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "", "::") else settings.host  # noqa: S104 - names "any"
    url = f"http://{host if ':' not in host else f'[{host}]'}:{settings.port}{path}"
    try:
        answer = httpx.get(url, timeout=timeout)
    except httpx.HTTPError as exc:
        typer.echo(f"unhealthy: {url}: {type(exc).__name__}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"{answer.status_code} {answer.text.strip()}")
    raise typer.Exit(0 if answer.status_code == 200 else 1)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Bring the database (DATABASE_URL) to the newest schema."""
    from actiondesk.adapters.store import current_revision, upgrade

    settings = load_settings()
    try:
        upgrade(settings.database_url)
    except ActionDeskError as exc:
        raise fail(exc, settings) from None
    announce(settings, f"database at revision {current_revision(settings.database_url)}")


@audit_app.command("verify")
def audit_verify(
    checkpoints: Annotated[
        Path | None, typer.Option(help="Signed checkpoint file (default ACTIONDESK_AUDIT_CHECKPOINT_FILE).")
    ] = None,
    public_key: Annotated[
        Path | None, typer.Option(help="Public key that signed them (default: from ACTIONDESK_AUDIT_SIGNING_KEY).")
    ] = None,
) -> None:
    """Walk the hash chain; exit 1 and name the first bad entry after any edit, deletion or reordering.

    With signed checkpoints it also catches a deleted tail and a chain recomputed after an edit.
    """
    from actiondesk.bot.jobs import checkpoints as signed
    from actiondesk.bot.wiring.stores import open_store

    settings = load_settings()
    file = checkpoints or settings.audit_checkpoint_file
    try:
        published: dict[int, str] = {}
        if file is not None and file.exists():
            key = public_key or settings.audit_signing_key
            if key is None:
                raise ConfigurationError("checkpoints need --public-key or ACTIONDESK_AUDIT_SIGNING_KEY to verify")
            published = signed.read_checkpoints(file, signed.load_public(key))
        report = open_store(settings, migrate=False).verify_audit(published)
    except AuditIntegrityError as exc:
        typer.echo(f"audit trail BROKEN: {exc}", err=True)
        raise typer.Exit(1) from None
    except ActionDeskError as exc:
        raise fail(exc) from None
    if report.ok:
        against = f", {len(published)} signed checkpoints matched" if published else ""
        typer.echo(f"audit trail verified: {report.checked} entries, head {report.head_hash[:16]}{against}")
        typer.echo(unsigned_tail(report.checked, max(published, default=0)))
        return
    typer.echo(
        f"audit trail BROKEN at entry {report.first_bad_seq}: {report.problem} "
        f"({report.checked} entries verified before it)",
        err=True,
    )
    raise typer.Exit(1)


def unsigned_tail(head_seq: int, last_signed: int) -> str:
    """What no signed checkpoint covers: entries there could be rewritten or cut without `verify` noticing."""
    if head_seq == 0:
        return "the chain is empty"
    if last_signed == 0:
        return f"no signed checkpoint: none of the {head_seq} entries can be proven against a signature"
    after = head_seq - last_signed
    if after <= 0:
        return "every entry is covered by a signed checkpoint"
    return (
        f"{after} entries after the last signed checkpoint (entry {last_signed}): "
        "changes to them cannot be proven until the next checkpoint"
    )


@audit_app.command("keygen")
def audit_keygen(out: Annotated[Path, typer.Option("--out", help="Where to write the new private key.")]) -> None:
    """Create an Ed25519 key for signing checkpoints (private key at OUT, public key at OUT.pub)."""
    from actiondesk.bot.jobs import checkpoints as signed

    try:
        typer.echo(signed.generate_key(out), nl=False)
    except FileExistsError:
        typer.echo(f"error: {out} exists; refusing to overwrite a key", err=True)
        raise typer.Exit(2) from None


@audit_app.command("checkpoint")
def audit_checkpoint(
    key: Annotated[Path | None, typer.Option(help="Private key (default ACTIONDESK_AUDIT_SIGNING_KEY).")] = None,
    out: Annotated[
        Path | None, typer.Option(help="Checkpoint file (default ACTIONDESK_AUDIT_CHECKPOINT_FILE).")
    ] = None,
) -> None:
    """Sign the current chain head and append it to the checkpoint file."""
    from actiondesk.bot.jobs import checkpoints as signed
    from actiondesk.bot.wiring.stores import open_store
    from actiondesk.core.clock import SystemClock

    settings = load_settings()
    key, out = key or settings.audit_signing_key, out or settings.audit_checkpoint_file
    if key is None or out is None:
        typer.echo("error: a checkpoint needs a key (--key) and a file (--out)", err=True)
        raise typer.Exit(2)
    try:
        seq, head = open_store(settings, migrate=False).audit_head()
        checkpoint = signed.sign(seq, head, SystemClock().now(), signed.load_private(key))
        signed.publish(checkpoint, out)
    except ActionDeskError as exc:
        raise fail(exc) from None
    typer.echo(f"checkpoint: entry {seq}, head {head[:16]}, key {checkpoint.key_id}")


@audit_app.command("export")
def audit_export(case: Annotated[str | None, typer.Option("--case", help="Only this case's entries.")] = None) -> None:
    """Write the audit entries as JSON Lines to stdout."""
    from actiondesk.bot.wiring.stores import open_store

    out = sys.stdout
    try:
        for entry in open_store(load_settings(), migrate=False).audit(case):
            out.write(json.dumps(entry.model_dump(mode="json"), ensure_ascii=False, sort_keys=True) + "\n")
        out.flush()
    except ActionDeskError as exc:
        raise fail(exc) from None
    except BrokenPipeError:
        # the reader stopped (`audit export | head`): end quietly; stdout goes to /dev/null so that the
        # interpreter's own flush at exit does not raise again (the recipe of Python's signal docs)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise typer.Exit(0) from None


@scenario_app.command("run")
def scenario_run(
    path: Annotated[Path, typer.Argument(help="A scenario YAML file, or a folder of them.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the report(s) as JSON.")] = False,
    summary: Annotated[
        bool, typer.Option("--summary", help="Print one table for all scenarios, with culprit precision and recall.")
    ] = False,
) -> None:
    """Play scenarios on simulated time; exit 0 only when every expectation of every one holds.

    A file plays into the configured database (inspect it afterwards with `audit export`); the scenarios of a
    folder each play in a throwaway database of their own, so that one's breaker history or settings never
    leak into the next."""
    import tempfile

    from actiondesk.adapters.sandbox import load_scenario
    from actiondesk.bot.cli.render import print_report, print_summary
    from actiondesk.bot.scenario.runner import run_scenario, summarise
    from actiondesk.bot.wiring.stores import open_store

    settings = load_settings()
    files = sorted(path.glob("*.yaml")) if path.is_dir() else [path]
    if not files:
        raise fail(ActionDeskError(f"{path}: no scenario files (*.yaml) in this folder"))
    try:
        scenarios = [load_scenario(f) for f in files]
        if not path.is_dir():
            played = [(scenarios[0], run_scenario(scenarios[0], settings, open_store(settings)))]
        else:
            played = []
            with tempfile.TemporaryDirectory(prefix="actiondesk-scenarios-") as folder:
                for i, scenario in enumerate(scenarios):
                    own = settings.model_copy(update={"database_url": f"sqlite:///{folder}/{i}.db"})
                    played.append((scenario, run_scenario(scenario, own, open_store(own))))
    except ActionDeskError as exc:
        raise fail(exc) from None
    reports = [r for _, r in played]
    if as_json:
        if path.is_dir() or summary:
            body = {
                "reports": [r.model_dump(mode="json") for r in reports],
                "summary": summarise(played).model_dump(mode="json"),
            }
            typer.echo(json.dumps(body, indent=2))
        else:
            typer.echo(reports[0].model_dump_json(indent=2))
    elif summary:
        print_summary(summarise(played))
    else:
        for report in reports:
            print_report(report)
    raise typer.Exit(0 if all(r.passed for r in reports) else 1)


@app.command()
def rollback(run_key: RunKey, by: By = None, as_json: AsJson = False) -> None:
    """Roll back a finished action run: its inverse runs through governance like any other action."""
    rollback_command(load_settings(), run_key, by, as_json)


@app.command()
def compensate(case_id: Annotated[str, typer.Argument(help="The stopped request's case id.")], by: By = None) -> None:
    """Undo the completed steps of a stopped onboarding or offboarding, each through governance."""
    from actiondesk.bot.cli.requests import compensate_command

    compensate_command(load_settings(), case_id, by)


@app.command()
def handoff(case_id: Annotated[str, typer.Argument(help="The stopped request's case id.")], by: By = None) -> None:
    """Hand a stopped onboarding or offboarding to a person: its ticket goes to the assignment group."""
    from actiondesk.bot.cli.requests import handoff_command

    handoff_command(load_settings(), case_id, by)


@app.command()
def report(
    days: Annotated[float, typer.Option(help="The period: this many days back from now.")] = 7.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
) -> None:
    """MTTR, first-contact resolution, cost per resolved request and the rest, for a period."""
    from actiondesk.bot.cli.render import print_metrics
    from actiondesk.bot.reports import metrics
    from actiondesk.bot.wiring.stores import open_store
    from actiondesk.core.clock import SystemClock

    settings = load_settings()
    try:
        start, end = metrics.period(SystemClock(), days)
        figures = metrics.report(open_store(settings, migrate=False), start, end, settings.infra_cost_per_hour)
    except ActionDeskError as exc:
        raise fail(exc) from None
    if as_json:
        typer.echo(json.dumps(metrics.as_json(figures), indent=2))
    else:
        print_metrics(figures)


@app.command()
def postmortem(
    case: Annotated[str, typer.Argument(help="The case id, e.g. C-1a2b3c4d5e.")],
    fmt: Annotated[str, typer.Option("--format", help="md (Markdown) or json.")] = "md",
) -> None:
    """The post-mortem of a resolved incident, as it was written from the stored facts (exit 1: none yet)."""
    from actiondesk.agents.postmortem import render_markdown, stored_postmortem
    from actiondesk.bot.wiring.stores import open_store

    if fmt not in ("md", "json"):
        typer.echo(f"error: --format {fmt!r}: use md or json", err=True)
        raise typer.Exit(2)
    try:
        store = open_store(load_settings(), migrate=False)
        found = store.get_case(case)
        pm = stored_postmortem(store.audit(case))
    except ActionDeskError as exc:
        raise fail(exc) from None
    if pm is None:
        typer.echo(
            f"no post-mortem for {case}: it is a {found.kind.value} that is {found.status.value} "
            "(a post-mortem is written when an incident resolves)",
            err=True,
        )
        raise typer.Exit(1)
    typer.echo(pm.model_dump_json(indent=2) if fmt == "json" else render_markdown(pm), nl=fmt == "json")


@app.command()
def doctor(
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Check each configured system: reachable, credentials accepted, the scopes it needs (exit 1: one is
    unusable)."""
    from actiondesk.bot.doctor.report import diagnose, print_doctor

    report = diagnose(load_settings())
    if as_json:
        typer.echo(json.dumps(report.as_json(), indent=2))
    else:
        print_doctor(report)
    raise typer.Exit(0 if report.usable else 1)


@app.command()
def demo() -> None:
    """Play the bad-deploy scenario in the terminal, step by step (uses a throwaway SQLite database)."""
    from actiondesk.bot.cli.demo import play_demo

    settings = load_settings()
    try:
        ok = play_demo(settings)
    except ActionDeskError as exc:
        raise fail(exc) from None
    raise typer.Exit(0 if ok else 1)


def main() -> None:
    app()
