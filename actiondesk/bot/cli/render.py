"""Terminal rendering with rich: scenario reports, case timelines and the desk figures."""

from __future__ import annotations

import sys

from rich.console import Console
from rich.table import Table

from actiondesk.agents.metrics import Report
from actiondesk.bot.reports.text import describe, metrics_lines
from actiondesk.bot.scenario.runner import ScenarioReport, Summary
from actiondesk.core.audit import AuditEntry, AuditKind

STYLE = {
    AuditKind.MESSAGE: "white",
    AuditKind.FINDING: "cyan",
    AuditKind.PLAN: "cyan",
    AuditKind.DECISION: "magenta",
    AuditKind.APPROVAL_REQUESTED: "yellow",
    AuditKind.APPROVAL: "yellow",
    AuditKind.ACTION_STARTED: "blue",
    AuditKind.ACTION_RESULT: "blue",
    AuditKind.VERIFICATION: "green",
    AuditKind.CASE_RESOLVED: "bold green",
    AuditKind.CASE_ESCALATED: "bold red",
    AuditKind.CASE_FAILED: "bold red",
    AuditKind.HANDED_OFF: "bold yellow",
    AuditKind.PICKED_UP: "yellow",
    AuditKind.ACTED_ALONE: "blue",
    AuditKind.POSTMORTEM: "green",
}


def print_timeline(entries: list[AuditEntry], console: Console | None = None) -> None:
    console = console or Console()
    table = Table(show_header=True, header_style="bold", expand=True)
    table.add_column("#", justify="right", width=4)
    table.add_column("time", width=8)
    table.add_column("kind", width=18)
    table.add_column("actor", width=12)
    table.add_column("what")
    for entry in entries:
        style = STYLE.get(entry.kind, "dim")
        table.add_row(
            str(entry.seq), f"{entry.at:%H:%M:%S}", entry.kind.value, entry.actor, describe(entry), style=style
        )
    console.print(table)


def print_metrics(r: Report, console: Console | None = None) -> None:
    console = console or Console()
    for line in metrics_lines(r):
        console.print(line, highlight=False)


def print_report(report: ScenarioReport, console: Console | None = None) -> None:
    console = console or Console()
    verdict = "[bold green]PASSED[/]" if report.passed else "[bold red]FAILED[/]"
    console.print(f"scenario [bold]{report.name}[/]: {verdict}  status={report.status}")
    if report.root_cause:
        console.print(f"root cause: {report.root_cause.shown()}")
    else:
        console.print("root cause: none named")
    for action in report.actions:
        confirmed = f" confirmation={action.confirmation}" if action.confirmation else ""
        console.print(
            f"  action {action.name} {action.params} decision={action.decision} result={action.result}{confirmed}"
        )
    console.print(f"probes: {', '.join(report.probes) or '-'}")
    if report.mttr_seconds is not None:
        console.print(f"MTTR: {report.mttr_seconds:.0f} s (simulated)")
    console.print(f"audit verified: {report.audit_verified}")
    for note in report.notes:
        console.print(f"[dim]note: {note}[/]")
    for mismatch in report.mismatches:
        console.print(f"[red]mismatch: {mismatch}[/]")


def print_summary(summary: Summary, console: Console | None = None) -> None:
    console = console or Console(width=None if sys.stdout.isatty() else 160)
    table = Table(show_header=True, header_style="bold")
    for column in ("scenario", "expected cause", "found cause", "fix", "status"):
        table.add_column(column)
    for row in summary.rows:
        verdict = "[green]pass[/]" if row.passed else "[red]FAIL[/]"
        table.add_row(row.scenario, row.expected_cause, row.found_cause, row.fix, f"{verdict} {row.status}")
    console.print(table)

    def share(value: float | None) -> str:
        return "-" if value is None else f"{value:.0%}"

    console.print(
        f"{summary.passed}/{summary.scenarios} passed · culprit precision {share(summary.culprit_precision)} "
        f"({summary.culprits_correct}/{summary.culprits_named} named) · recall {share(summary.culprit_recall)} "
        f"({summary.culprits_correct}/{summary.causes_expected} causes) · correct fixes "
        f"{summary.fixes_correct}/{summary.fixes_expected} · culprits invented on controls "
        f"{summary.invented_on_controls}/{summary.controls}"
    )
