"""ServiceNow: incidents, work notes and change requests over the Table API; hardware requests through the
Service Catalog (httpx)."""

from __future__ import annotations

from actiondesk.adapters.servicenow.catalog import ServiceNowProcurement
from actiondesk.adapters.servicenow.client import ApiKey, BasicAuth, ClientCredentials, ServiceNowClient
from actiondesk.adapters.servicenow.tickets import ServiceNowTicketSystem

__all__ = [
    "ApiKey",
    "BasicAuth",
    "ClientCredentials",
    "ServiceNowClient",
    "ServiceNowProcurement",
    "ServiceNowTicketSystem",
]
