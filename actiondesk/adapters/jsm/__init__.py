"""Jira Service Management: customer requests, comments and transitions (httpx)."""

from __future__ import annotations

from actiondesk.adapters.jsm.client import JsmClient
from actiondesk.adapters.jsm.tickets import JsmTicketSystem

__all__ = ["JsmClient", "JsmTicketSystem"]
