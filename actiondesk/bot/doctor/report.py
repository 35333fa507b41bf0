"""`actiondesk doctor`: for each configured system, can ActionDesk reach it, are its credentials accepted, and does
it have the scopes it needs. ``serve`` logs the same report at start without failing.

The probes of the configured systems (``probes.py``) run at once; this module chooses them, runs them and draws
the report. A system is ``unusable`` when it cannot be reached, refuses the credentials, or lacks what reading
needs; ``warning`` when it works but something it will need later (a write scope, a catalog query, a workload of
the catalog) is wrong; ``ok`` otherwise. Secrets are never printed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextvars import copy_context
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from actiondesk.bot.doctor.checks import Check, Report
from actiondesk.bot.doctor.probes import (
    argocd,
    jsm,
    kubernetes,
    ldap,
    loki,
    openai,
    opsgenie,
    pagerduty,
    procurement,
    prometheus,
    scim,
    service_catalog,
    servicenow,
    slack,
    teams,
)
from actiondesk.core.errors import ActionDeskError
from actiondesk.core.settings import Settings

log = logging.getLogger(__name__)

# -- the report --------------------------------------------------------------------------------------------------

Probe = Callable[[Settings, Any], Check]


def configured(settings: Settings) -> tuple[list[tuple[str, Probe]], list[str]]:
    """The probes of the configured systems, and the names of those not configured."""
    table: list[tuple[str, bool, Probe]] = [
        ("Prometheus", bool(settings.prometheus_url), prometheus),
        ("Loki", bool(settings.loki_url), loki),
        ("Kubernetes", bool(settings.kubernetes_url), kubernetes),
        ("Argo CD", bool(settings.argocd_url), argocd),
        ("ServiceNow", bool(settings.servicenow_instance_url), servicenow),
        ("Jira Service Management", bool(settings.jsm_base_url), jsm),
        ("Slack", settings.slack_bot_token is not None, slack),
        ("Microsoft Teams", bool(settings.microsoft_app_id), teams),
        ("OpenAI-compatible model", settings.openai_api_key is not None, openai),
        ("SCIM identity provider", bool(settings.scim_url), scim),
        ("LDAP directory", bool(settings.ldap_url), ldap),
        ("Procurement API", bool(settings.procurement_url) and not settings.servicenow_instance_url, procurement),
        ("PagerDuty", settings.pagerduty_routing_key is not None, pagerduty),
        ("Opsgenie", settings.opsgenie_api_key is not None, opsgenie),
    ]
    return [(name, probe) for name, on, probe in table if on], [name for name, on, _ in table if not on]


def _safe(probe: Probe, name: str, settings: Settings, catalog: Any) -> Check:
    try:
        return probe(settings, catalog)
    # an answer of an unexpected shape (not JSON, a list where an object was due): reported, never a crash
    except (ActionDeskError, ValueError, KeyError, AttributeError, TypeError, httpx.HTTPError) as exc:
        check = Check(name, "")
        check.worse("unusable", f"{type(exc).__name__}: {str(exc)[:200]}")
        return check


def diagnose(settings: Settings) -> Report:
    """Probe every configured system at once (each within TIMEOUT seconds a request)."""
    checks: list[Check] = []
    catalog = None
    if settings.estate == "live":
        catalog_check, catalog = service_catalog(settings)
        checks.append(catalog_check)
    probes, off = configured(settings)
    with ThreadPoolExecutor(max_workers=max(1, len(probes))) as pool:
        # each probe runs in the caller's context (so a caller that suppresses tracing suppresses it for all)
        futures = [pool.submit(copy_context().run, _safe, probe, name, settings, catalog) for name, probe in probes]
        checks += [f.result() for f in futures]
    changes = Check("Change events", "POST /api/changes, /webhooks/github, /webhooks/argocd", reachable=None)
    doors = {
        "POST /api/changes": settings.changes_token,
        "GitHub": settings.github_webhook_secret,
        "Argo CD": settings.argocd_webhook_token,
    }
    changes.credentials = ", ".join(f"{door} {'on' if secret else 'off'}" for door, secret in doors.items())
    if settings.estate == "live" and not any(doors.values()):
        changes.worse("warning", "no change can arrive: set ACTIONDESK_CHANGES_TOKEN or a webhook secret")
    checks.append(changes)
    return Report(checks, off)


def log_report(report: Report) -> None:
    """What ``serve`` logs at start: one line a system, a warning for each that is not ok."""
    for check in report.checks:
        line = "doctor: %s (%s): %s; credentials: %s; needs: %s%s"
        detail = f"; {' | '.join(check.detail)}" if check.detail else ""
        level = logging.INFO if check.status == "ok" else logging.WARNING
        log.log(
            level, line, check.system, check.target, check.status, check.credentials or "-", check.scopes or "-", detail
        )
    if report.off:
        log.info("doctor: not configured: %s", ", ".join(report.off))


def print_doctor(report: Report, console: Console | None = None) -> None:
    """`actiondesk doctor`'s table: one row a system, its status, reachability, credentials, needs and notes."""
    console = console or Console(width=160)
    table = Table(show_lines=True)
    for column in ("System", "Status", "Reachable", "Credentials", "Needs", "Notes"):
        table.add_column(column, overflow="fold")
    colour = {"ok": "green", "warning": "yellow", "unusable": "red"}
    reach = {True: "yes", False: "no", None: "-"}
    for c in report.checks:
        table.add_row(
            f"{c.system}\n{c.target}",
            f"[{colour[c.status]}]{c.status}[/]",
            reach[c.reachable],
            c.credentials or "-",
            c.scopes or "-",
            "\n".join(c.detail) or "-",
        )
    console.print(table)
    if report.off:
        console.print(f"not configured: {', '.join(report.off)}", highlight=False)
    console.print(
        "[bold green]every configured system is usable[/]"
        if report.usable
        else "[bold red]a configured system is unusable[/]"
    )
