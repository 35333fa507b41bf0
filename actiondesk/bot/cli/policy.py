"""`actiondesk policy check` and `actiondesk policy test`: the governance decision from the command line.

Both evaluate with the configured policies (ACTIONDESK_POLICY_DIR or the built-in set), calendars, inline
windows, runtime controls and estate, exactly as the server would; neither changes anything (the circuit
breaker is only read).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from actiondesk.core.errors import ActionDeskError

if TYPE_CHECKING:
    from actiondesk.agents.governance import Governance
    from actiondesk.agents.governance.table import PolicyRow
    from actiondesk.core.governance import Decision
    from actiondesk.core.settings import Settings

policy_app = typer.Typer(help="Governance policies: check one decision, test a table of them.", no_args_is_help=True)


def _fail(exc: ActionDeskError | str) -> typer.Exit:
    typer.echo(f"error: {exc}", err=True)
    return typer.Exit(2)


def _governance(settings: Settings) -> Governance:
    from actiondesk.bot.scenario.runner import scenario_policy
    from actiondesk.bot.wiring.boot import serve_estate
    from actiondesk.bot.wiring.root import build_runtime, open_store
    from actiondesk.core.clock import SystemClock

    clock = SystemClock()
    store = open_store(settings)
    estate, scenario = serve_estate(settings, store, clock)
    governance = build_runtime(settings, store, estate, clock, scenario_policy(scenario, settings)).governance
    if governance.breaker is not None:
        governance.breaker.read_only = True
    return governance


def _at(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise _fail(f"--at {text!r} is not an ISO 8601 time, like 2026-12-24T10:00:00Z") from None
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def as_dict(decision: Decision, governance: Governance) -> dict[str, Any]:
    snapshot = governance.policies.current()
    return {
        "outcome": decision.outcome.value,
        "approver_groups": [decision.approver_group] if decision.approver_group else [],
        "quorum": decision.quorum,
        "expires_in_seconds": decision.expires_in_seconds,
        "policy_ids": list(decision.policy_ids),
        "policy_hash": decision.policy_hash,
        "policy_source": snapshot.source,
        "autonomy_level": int(decision.autonomy_level),
        "confidence": decision.confidence,
        "confidence_threshold": decision.confidence_threshold,
        "reasons": list(decision.reasons),
    }


def _print(decision: Decision, governance: Governance) -> None:
    data = as_dict(decision, governance)
    head = data["outcome"]
    if decision.approver_group is not None:
        head += f" by {decision.approver_group}"
        if decision.quorum > 1:
            head += f" ({decision.quorum} approvers)"
        head += f", expires in {decision.expires_in_seconds} s"
    typer.echo(head)
    typer.echo(f"  policies: {', '.join(decision.policy_ids)}")
    for reason in decision.reasons:
        typer.echo(f"  - {reason}")
    typer.echo(f"  policy set {decision.policy_hash} ({data['policy_source']})")


def _evaluate(governance: Governance, row: PolicyRow) -> Decision:
    from actiondesk.agents.governance.table import evaluate_row

    return evaluate_row(governance, row, datetime.now(UTC))


@policy_app.command("check")
def check(
    action: Annotated[str, typer.Option("--action", help="Catalog action, e.g. rollback_deployment.")],
    service: Annotated[
        str, typer.Option("--service", "--target", help="The service, person, host or application it acts on.")
    ],
    env: Annotated[str | None, typer.Option("--env", help="Evaluate as if the service ran in ENV.")] = None,
    at: Annotated[str | None, typer.Option("--at", help="When (ISO 8601; default now).")] = None,
    requester: Annotated[str | None, typer.Option("--requester", help="Who asks.")] = None,
    confidence: Annotated[
        float,
        typer.Option("--confidence", min=0.0, max=1.0, help="How sure the diagnosis behind the call is (0-1)."),
    ] = 1.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Evaluate one decision and print it with the policies behind it."""
    from actiondesk.agents.governance.table import PolicyRow
    from actiondesk.bot.cli.support import load_settings as _settings

    when = _at(at)
    try:
        governance = _governance(_settings())
        row = PolicyRow(
            action=action, service=service, env=env, at=when, requester=requester or "", confidence=confidence
        )
        decision = _evaluate(governance, row)
    except ActionDeskError as exc:
        raise _fail(exc) from None
    if as_json:
        typer.echo(json.dumps(as_dict(decision, governance), indent=2))
    else:
        _print(decision, governance)


@policy_app.command("test")
def run_table(
    file: Annotated[Path, typer.Argument(help="YAML decision table (cases: [{action, service, ..., expect}]).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Run a table of expected decisions; exit 0 only when every row decides as expected."""
    from actiondesk.agents.governance.table import load_table, mismatches
    from actiondesk.bot.cli.support import load_settings as _settings

    try:
        table = load_table(file)
        governance = _governance(_settings())
        results = []
        for row in table.cases:
            decision = _evaluate(governance, row)
            results.append((row, decision, mismatches(row, decision)))
    except ActionDeskError as exc:
        raise _fail(exc) from None
    failed = sum(1 for _, _, problems in results if problems)
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "passed": len(results) - failed,
                    "failed": failed,
                    "policy_hash": governance.policies.current().hash,
                    "cases": [
                        {"case": row.label, "ok": not problems, "problems": problems, **as_dict(decision, governance)}
                        for row, decision, problems in results
                    ],
                },
                indent=2,
            )
        )
    else:
        for row, decision, problems in results:
            mark = "ok  " if not problems else "FAIL"
            typer.echo(f"{mark} {row.label}: {decision.outcome.value} [{', '.join(decision.policy_ids)}]")
            for problem in problems:
                typer.echo(f"       {problem}")
        typer.echo(f"{len(results) - failed} passed, {failed} failed")
    raise typer.Exit(0 if failed == 0 else 1)
