"""Opsgenie: pages on-call through the Alert API (httpx)."""

from __future__ import annotations

from actiondesk.adapters.opsgenie.alerts import OpsgeniePager

__all__ = ["OpsgeniePager"]
