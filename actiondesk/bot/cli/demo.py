"""`actiondesk demo`: the bad-deploy story, played on simulated time, told in the terminal."""

from __future__ import annotations

import tempfile
from pathlib import Path

from rich.console import Console
from rich.panel import Panel

from actiondesk.adapters.sandbox import parse_scenario
from actiondesk.bot.cli.render import print_report, print_timeline
from actiondesk.bot.scenario.runner import run_scenario
from actiondesk.bot.wiring.root import open_store
from actiondesk.core.settings import Settings

DEMO = """
name: demo-bad-deploy-rollback
events:
  - {at: 0, deploy: {service: payment-gateway, version: v2.5.0, commit: 9f3c2ab, author: dana}}
  - {at: 60, fault: {service: payment-gateway, kind: error_rate, value: 0.35}}
  - {at: 120, message: {user: alice, text: "the payment gateway is throwing 500s"}}
  - {at: 300, approve: {user: bob}}
expect:
  root_cause: {service: payment-gateway, commit: 9f3c2ab}
  actions: [rollback_deployment]
  decisions: [approve]
  status: resolved
"""


def play_demo(settings: Settings) -> bool:
    console = Console()
    console.print(
        Panel.fit(
            "payment-gateway v2.5.0 (commit 9f3c2ab) went out at 09:00; a minute later its 5xx rate jumped.\n"
            "alice reports it; ActionDesk triages, plans a rollback, bob (sre) approves, and it verifies the fix.",
            title="ActionDesk demo",
        )
    )
    with tempfile.TemporaryDirectory() as folder:
        local = settings.model_copy(update={"database_url": f"sqlite:///{Path(folder) / 'demo.db'}"})
        store = open_store(local)
        report = run_scenario(parse_scenario(DEMO, "demo"), local, store)
        for case_id in report.cases:
            print_timeline(list(store.audit(case_id)), console)
        print_report(report, console)
    return report.passed
