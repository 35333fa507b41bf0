"""Onboarding and offboarding requests: read from a chat message or a form, every field checked before
anything runs. Deterministic; no model involved.

Chat: ``onboard Jane Doe as data analyst, starting 2026-12-14, manager bob`` (optionally ``username jdoe``,
``email jane.doe@example.com``), and ``offboard jdoe, last day Friday``. A date is ISO (2026-12-14), ``today``,
``tomorrow``, a weekday (the next one), or ``14 December 2026`` / ``December 14``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from actiondesk.agents.fulfilment.roles import RoleCatalog
from actiondesk.core.errors import InvalidRequestError
from actiondesk.core.fulfilment import Hire, Leaver
from actiondesk.core.ports import Directory

ONBOARD = re.compile(r"(?i)^\W*(?:please\s+)?onboard\b")
OFFBOARD = re.compile(r"(?i)^\W*(?:please\s+)?offboard\b")
_USER = re.compile(r"^[a-z][a-z0-9._-]{0,63}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$", re.IGNORECASE)
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_STOP = r"(?=\s*(?:,|;|\.\s|\.$|$|\s+(?:as|starting|start|from|on|manager|reporting|username|user|email|last)\b))"


@dataclass(frozen=True)
class HireForm:
    """What a person typed or picked; ``check`` turns it into a Hire or says what is wrong with each field."""

    name: str = ""
    role: str = ""
    start: str = ""
    manager: str = ""
    user: str = ""
    email: str = ""


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def read_date(text: str, today: date) -> date | None:
    """A date as people write it in a request, or None when it is not one."""
    words = text.strip().lower().rstrip(".").removeprefix("on ").strip()
    if words == "today":
        return today
    if words == "tomorrow":
        return today + timedelta(days=1)
    if words.removeprefix("next ") in _WEEKDAYS:
        ahead = (_WEEKDAYS.index(words.removeprefix("next ")) - today.weekday()) % 7 or 7
        return today + timedelta(days=ahead)
    for pattern in ("%Y-%m-%d", "%d %B %Y", "%B %d %Y", "%B %d, %Y", "%d %b %Y", "%b %d %Y"):
        try:
            return datetime.strptime(words, pattern).date()
        except ValueError:
            continue
    for pattern in ("%d %B", "%B %d", "%d %b", "%b %d"):
        try:
            day = datetime.strptime(f"{words} {today.year}", f"{pattern} %Y").date()
        except ValueError:
            continue
        return day if day >= today else day.replace(year=today.year + 1)
    return None


def _grab(pattern: str, text: str) -> str:
    match = re.search(pattern + _STOP, text, flags=re.IGNORECASE)
    return match.group(1).strip() if match else ""


def read_onboarding(text: str) -> HireForm:
    """The fields of an onboarding message (empty where the message does not say)."""
    return HireForm(
        name=_grab(r"\bonboard\s+(.+?)", text),
        role=_grab(r"\bas\s+(?:an?\s+)?(.+?)", text),
        start=_grab(r"\b(?:starting|start(?:s|ing)?\s+on|start\s+date|from)\s+(?:on\s+)?(.+?)", text),
        manager=_grab(r"\b(?:manager(?:\s+is)?|reporting\s+to)\s+(.+?)", text),
        user=_grab(r"\b(?:username|user\s+name)\s+(.+?)", text),
        email=_grab(r"\bemail\s+(\S+?)", text),
    )


def check_hire(form: HireForm, roles: RoleCatalog, directory: Directory, today: date) -> Hire:
    """A Hire, or InvalidRequestError naming every field that is missing or wrong."""
    problems: dict[str, str] = {}
    parts = form.name.split()
    if len(parts) < 2:
        problems["name"] = "give the new hire's first and last name, like Jane Doe"
    role = roles.find(form.role) if form.role else None
    if role is None:
        known = ", ".join(roles.names())
        problems["role"] = f"no role {form.role!r}; the roles are {known}" if form.role else f"pick a role: {known}"
    start = read_date(form.start, today) if form.start else None
    if start is None:
        problems["start"] = (
            "give the start date, like 2026-12-14 or Monday"
            if not form.start
            else (f"{form.start!r} is not a date I can read (try 2026-12-14)")
        )
    elif start < today:
        problems["start"] = f"{start.isoformat()} is in the past"
    manager = directory.person(form.manager.strip().lower()) if form.manager else None
    if manager is None:
        problems["manager"] = (
            f"no person {form.manager!r} in the directory" if form.manager else "name the manager (a directory name)"
        )
    given, family = (parts[0], " ".join(parts[1:])) if len(parts) >= 2 else ("", "")
    last = parts[-1] if len(parts) >= 2 else ""
    user = form.user.strip().lower() or re.sub(r"[^a-z0-9]", "", _ascii(given[:1] + last))
    if not user and "name" in problems:
        pass  # derived from the name, which is already said to be wrong
    elif not _USER.match(user):
        problems["user"] = f"{user!r} is not a user name (lower case letters, digits, . _ -)"
    elif manager is not None and user == manager.name:
        problems["user"] = f"{user} is the manager's own user name"
    domain = manager.email.split("@", 1)[1] if manager is not None and "@" in manager.email else "example.com"
    email = form.email.strip() or f"{_ascii(given)}.{re.sub(r'[^a-z0-9]', '', _ascii(last))}@{domain}"
    if not _EMAIL.match(email) and (form.email or "name" not in problems):
        problems["email"] = f"{email!r} is not an email address"
    if problems:
        listed = "; ".join(f"{k}: {v}" for k, v in problems.items())
        raise InvalidRequestError(f"I can't onboard this yet: {listed}.", problems)
    assert role is not None
    assert start is not None
    assert manager is not None
    return Hire(
        user=user,
        given_name=given,
        family_name=family,
        email=email,
        role=role.name,
        start=start,
        manager=manager.name,
    )


def read_offboarding(text: str, today: date) -> Leaver:
    """A Leaver from ``offboard USER[, last day DATE]``; InvalidRequestError naming what is wrong."""
    who = _grab(r"\boffboard\s+(.+?)", text)
    when = _grab(r"\blast\s+(?:working\s+)?day(?:\s+is)?\s+(.+?)", text)
    problems: dict[str, str] = {}
    words = who.split()
    user = words[0].lower() if len(words) == 1 else (_ascii(words[0][:1] + words[-1]) if words else "")
    user = re.sub(r"[^a-z0-9._-]", "", user)
    if not user or not _USER.match(user):
        problems["user"] = "name the person leaving (their user name, like jdoe)"
    last = read_date(when, today) if when else today
    if last is None:
        problems["last_day"] = f"{when!r} is not a date I can read (try 2026-12-18 or Friday)"
    elif last < today:
        problems["last_day"] = f"{last.isoformat()} is in the past"
    if problems:
        listed = "; ".join(f"{k}: {v}" for k, v in problems.items())
        raise InvalidRequestError(f"I can't offboard this yet: {listed}.", problems)
    assert last is not None
    return Leaver(user=user, last_day=last)
