"""Service-desk staples recognised in a message: a locked VPN session, a full log volume, a password reset.

Recognition only names the pattern and its subject (a person or a host); triage then reads the live state
with a read-only probe and says whether it really warrants the runbook, or abstains.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from actiondesk.core.finding import FindingKind

_VPN = re.compile(r"(?i)\bvpn\b")
_LOCKED = re.compile(r"(?i)\b(locked|lock(ed)? out|stuck|can'?t (connect|log ?in|get in)|reset|unlock)\b")
_PASSWORD = re.compile(r"(?i)\bpassword\b")
_RESET = re.compile(r"(?i)\b(reset|forgot|forgotten|expired|change|new)\b")
_DISK = re.compile(r"(?i)\b(disk|volume|filesystem|file system|partition)\b")
_FULL = re.compile(r"(?i)(\bfull\b|out of space|no space|\b100 ?%)")
_HOST = re.compile(r"\b([a-z][a-z0-9]*(?:-[a-z0-9]+)*-\d+)\b")
_POSSESSIVE = re.compile(r"\b(?:for\s+)?([a-z][a-z0-9._-]{1,63})(?:'s|\u2019s)\s")


@dataclass(frozen=True)
class Staple:
    kind: FindingKind
    subject: str | None  # None: the message does not say which host


def _person(text: str, reporter: str, known: frozenset[str]) -> str:
    """The person a request is for: a known name written as ``bob's``, else the reporter."""
    for match in _POSSESSIVE.finditer(text.lower()):
        if match.group(1) in known:
            return match.group(1)
    return reporter


def recognise(text: str, reporter: str, people: frozenset[str]) -> Staple | None:
    if _VPN.search(text) and _LOCKED.search(text):
        return Staple(FindingKind.VPN_LOCKED, _person(text, reporter, people))
    if _PASSWORD.search(text) and _RESET.search(text):
        return Staple(FindingKind.PASSWORD_RESET, _person(text, reporter, people))
    if _DISK.search(text) and _FULL.search(text):
        host = _HOST.search(text.lower())
        return Staple(FindingKind.DISK_FULL, host.group(1) if host else None)
    return None
