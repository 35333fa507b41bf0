"""Classify what a message asks for and which service it names. Deterministic; no model involved."""

from __future__ import annotations

import re

from actiondesk.core.case import CaseKind
from actiondesk.core.estate import Service

_INCIDENT = re.compile(
    r"(?i)\b(5\d\d|500s?|errors?|erroring|failing|fails|failed|down|outage|broken|slow|timeouts?|timing out|"
    r"throwing|crash\w*|unavailable|latency|degraded|alert)\b"
)
_REQUEST = re.compile(
    r"(?i)\b(onboard\w*|offboard\w*|new (hire|starter|laptop|account)|access to|grant|reset|unlock|"
    r"install|order|request|provision)\b"
)


def _normalise(text: str) -> str:
    return re.sub(r"[\s_-]+", " ", text.lower())


def classify(text: str) -> CaseKind:
    if _INCIDENT.search(text):
        return CaseKind.INCIDENT
    if _REQUEST.search(text):
        return CaseKind.REQUEST
    return CaseKind.QUESTION


def find_service(text: str, services: list[Service]) -> Service | None:
    """The service the text names (by name or alias); the longest match wins."""
    haystack = f" {_normalise(text)} "
    best: tuple[int, Service] | None = None
    for service in services:
        for name in (service.name, *service.aliases):
            needle = _normalise(name)
            if re.search(rf"(?<![a-z0-9]){re.escape(needle)}(?![a-z0-9])", haystack) and (
                best is None or len(needle) > best[0]
            ):
                best = (len(needle), service)
    return best[1] if best else None
