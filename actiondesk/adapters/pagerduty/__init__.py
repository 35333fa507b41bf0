"""PagerDuty: pages on-call through the Events API v2 (httpx)."""

from __future__ import annotations

from actiondesk.adapters.pagerduty.events import PagerDutyPager

__all__ = ["PagerDutyPager"]
