"""API tokens for automation: ``adt_<id>_<secret>``, shown once; the database keeps the id and the secret's hash.

A token carries its person's identity and only the scopes it was created with; the person's directory groups
still decide what they may approve.
"""

from __future__ import annotations

import hmac
import re
import secrets
from datetime import datetime, timedelta

from actiondesk.adapters.store.access import SqlAccess
from actiondesk.core.access import ALL_SCOPES, ApiToken, Principal, Scope, Via, digest
from actiondesk.core.errors import ConfigurationError, NotFoundError
from actiondesk.core.ports import Directory

PREFIX = "adt"
SHAPE = re.compile(r"^adt_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$")
DURATION = re.compile(r"^(\d+)([mhdw])$")
UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_scopes(text: str) -> frozenset[Scope]:
    names = [s.strip() for s in text.split(",") if s.strip()]
    if not names:
        raise ConfigurationError(f"--scopes needs at least one of {', '.join(sorted(ALL_SCOPES))}")
    unknown = sorted(n for n in names if n not in {s.value for s in Scope})
    if unknown:
        raise ConfigurationError(f"unknown scope {', '.join(unknown)}: choose from {', '.join(sorted(ALL_SCOPES))}")
    return frozenset(Scope(n) for n in names)


def parse_duration(text: str) -> timedelta:
    """``30d``, ``12h``, ``90m``, ``2w``."""
    match = DURATION.match(text.strip())
    if match is None or int(match.group(1)) == 0:
        raise ConfigurationError(f"--expires {text!r}: give a positive number and a unit: 90m, 12h, 30d or 2w")
    return timedelta(**{UNITS[match.group(2)]: int(match.group(1))})


def create(
    access: SqlAccess,
    directory: Directory,
    person: str,
    scopes: frozenset[Scope],
    now: datetime,
    expires: timedelta | None = None,
) -> tuple[ApiToken, str]:
    """Store a new token for ``person`` (who must be in the directory); return it and the one-time secret text."""
    if directory.person(person) is None:
        raise NotFoundError(f"{person!r} is not in the directory: a token acts as a person of the directory")
    token_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
    token = ApiToken(
        id=token_id,
        person=person,
        scopes=scopes,
        secret_hash=digest(secret),
        created_at=now,
        expires_at=now + expires if expires is not None else None,
    )
    access.add_token(token)
    return token, f"{PREFIX}_{token_id}_{secret}"


def authenticate(access: SqlAccess, text: str, now: datetime) -> Principal | None:
    """The principal a bearer token stands for; None when it is malformed, unknown, revoked or expired."""
    match = SHAPE.match(text)
    if match is None:
        return None
    token = access.token(match.group(1))
    if token is None or not hmac.compare_digest(token.secret_hash, digest(match.group(2))) or not token.usable(now):
        return None
    if token.last_used_at is None or now - token.last_used_at >= timedelta(minutes=1):
        access.token_used(token.id, now)  # at most one write a minute per token
    return Principal(person=token.person, scopes=token.scopes, via=Via.TOKEN, credential=f"token {token.id}")
