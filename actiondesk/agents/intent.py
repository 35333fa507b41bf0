"""Classify what a message asks for: an incident, a request or a question. Deterministic; no model involved.
(Which services it names is ``agents/triage/naming.py``.)"""

from __future__ import annotations

import re

from actiondesk.core.case import CaseKind

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
