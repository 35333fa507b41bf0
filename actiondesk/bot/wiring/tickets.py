"""Which ticket systems and pagers are on (a ticket system when its base URL is set, a pager when its key is),
their adapters, the mirror the Recorder queues through, and the outbox's line in a chat status reply."""

from __future__ import annotations

import logging

from actiondesk.adapters.jsm import JsmClient, JsmTicketSystem
from actiondesk.adapters.opsgenie import OpsgeniePager
from actiondesk.adapters.pagerduty import PagerDutyPager
from actiondesk.adapters.servicenow import (
    ApiKey,
    BasicAuth,
    ClientCredentials,
    ServiceNowClient,
    ServiceNowTicketSystem,
)
from actiondesk.agents.mirror import TicketMirror
from actiondesk.core.errors import ConfigurationError
from actiondesk.core.ports import Pager, TicketSystem
from actiondesk.core.settings import Settings

log = logging.getLogger(__name__)

NAMES = {
    "servicenow": "ServiceNow",
    "jsm": "Jira Service Management",
    "pagerduty": "PagerDuty",
    "opsgenie": "Opsgenie",
}
PAGERS = ("pagerduty", "opsgenie")


def servicenow_client(settings: Settings) -> ServiceNowClient:
    """The Table API client with the configured credentials (ticket mirroring and the Service Catalog share it)."""
    url = settings.servicenow_instance_url or ""
    auth: BasicAuth | ClientCredentials | ApiKey
    if settings.servicenow_client_id and settings.servicenow_client_secret:
        auth = ClientCredentials(settings.servicenow_client_id, settings.servicenow_client_secret.get_secret_value())
    elif settings.servicenow_username and settings.servicenow_password:
        auth = BasicAuth(settings.servicenow_username, settings.servicenow_password.get_secret_value())
    elif settings.servicenow_api_key:
        auth = ApiKey(settings.servicenow_api_key.get_secret_value())
    else:
        raise ConfigurationError(
            "SERVICENOW_INSTANCE_URL is set but no credentials: set SERVICENOW_USERNAME and SERVICENOW_PASSWORD, "
            "SERVICENOW_CLIENT_ID and SERVICENOW_CLIENT_SECRET, or SERVICENOW_API_KEY"
        )
    return ServiceNowClient(url, auth)


def _servicenow(settings: Settings) -> ServiceNowTicketSystem:
    return ServiceNowTicketSystem(
        servicenow_client(settings),
        assignment_group=settings.servicenow_assignment_group,
        close_code=settings.servicenow_close_code,
        username=settings.servicenow_username,
    )


def _jsm(settings: Settings) -> JsmTicketSystem:
    missing = [
        name
        for name, value in (
            ("JSM_EMAIL", settings.jsm_email),
            ("JSM_API_TOKEN", settings.jsm_api_token),
            ("JSM_SERVICE_DESK_ID", settings.jsm_service_desk_id),
            ("JSM_REQUEST_TYPE_ID", settings.jsm_request_type_id),
        )
        if not value
    ]
    if missing:
        raise ConfigurationError(f"JSM_BASE_URL is set but {', '.join(missing)} not")
    assert settings.jsm_api_token is not None
    return JsmTicketSystem(
        JsmClient(settings.jsm_base_url or "", settings.jsm_email or "", settings.jsm_api_token.get_secret_value()),
        service_desk_id=settings.jsm_service_desk_id or "",
        request_type_id=settings.jsm_request_type_id or "",
        resolve_transition=settings.jsm_resolve_transition,
        email=settings.jsm_email,
    )


def ticket_systems(settings: Settings) -> dict[str, TicketSystem]:
    """None, one or both, checked now: a system with its URL but not its credentials stops the start."""
    systems: dict[str, TicketSystem] = {}
    if settings.servicenow_instance_url:
        systems["servicenow"] = _servicenow(settings)
    if settings.jsm_base_url:
        systems["jsm"] = _jsm(settings)
    for name in systems:
        log.info("ticket mirroring into %s is on", NAMES[name])
    return systems


def pager_names(settings: Settings) -> list[str]:
    """The pagers that are on: PagerDuty with a routing key, Opsgenie with an API key."""
    on = (("pagerduty", settings.pagerduty_routing_key), ("opsgenie", settings.opsgenie_api_key))
    return [name for name, key in on if key is not None and key.get_secret_value()]


def pagers(settings: Settings, console_url: str | None = None) -> dict[str, Pager]:
    """The pagers that are on; their pages link to ``console_url`` (default ACTIONDESK_PUBLIC_URL)."""
    console_url = console_url or settings.public_url
    built: dict[str, Pager] = {}
    for name in pager_names(settings):
        if name == "pagerduty" and settings.pagerduty_routing_key is not None:
            key = settings.pagerduty_routing_key.get_secret_value()
            built[name] = PagerDutyPager(settings.pagerduty_url, key, console_url=console_url)
        elif name == "opsgenie" and settings.opsgenie_api_key is not None:
            key = settings.opsgenie_api_key.get_secret_value()
            built[name] = OpsgeniePager(settings.opsgenie_url, key, console_url=console_url)
        log.info("paging through %s is on", NAMES[name])
    return built


def ticket_mirror(settings: Settings) -> TicketMirror | None:
    systems = [
        n for n, url in (("servicenow", settings.servicenow_instance_url), ("jsm", settings.jsm_base_url)) if url
    ]
    if not systems:
        return None
    return TicketMirror(systems, settings.agent_identity, frozenset({settings.freeze_approvers, "cab"}))
