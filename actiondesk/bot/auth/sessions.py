"""Console sessions: a random id in a cookie, its SHA-256 in the database, an absolute expiry.

The cookie is ``HttpOnly; Secure; SameSite=Lax; Path=/`` with the ``__Host-`` prefix (no Domain: only this
host gets it). Browsers keep a Secure cookie from plain http only on loopback hosts (``localhost``,
``127.0.0.1``, ``[::1]`` count as secure contexts), which is why the demo and the loopback tests work over
http; anywhere else the console must be served over https, and ACTIONDESK_PUBLIC_URL says so.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from aiohttp import web

from actiondesk.adapters.store.access import SqlAccess
from actiondesk.core.access import ALL_SCOPES, Principal, Via, WebSession, digest

COOKIE = "__Host-actiondesk_session"
LOGIN_COOKIE = "__Host-actiondesk_login"  # binds a sign-in's callback to the browser that started it
LOGIN_MINUTES = 10


def start(access: SqlAccess, person: str, email: str | None, via: Via, now: datetime, hours: float) -> str:
    """Store a new session and return the cookie value (the only place the id exists in clear)."""
    session_id = secrets.token_urlsafe(32)
    access.add_session(
        WebSession(
            id_hash=digest(session_id),
            person=person,
            email=email,
            via=via,
            created_at=now,
            expires_at=now + timedelta(hours=hours),
        )
    )
    return session_id


def principal(access: SqlAccess, cookie: str, now: datetime) -> Principal | None:
    if not cookie or len(cookie) > 128:
        return None
    session = access.session(digest(cookie), now)
    if session is None:
        return None
    return Principal(
        person=session.person, scopes=ALL_SCOPES, via=session.via, credential=f"session {session.id_hash[:12]}"
    )


def set_cookie(response: web.StreamResponse, name: str, value: str, max_age: int) -> None:
    response.set_cookie(name, value, max_age=max_age, path="/", secure=True, httponly=True, samesite="Lax")


def clear_cookie(response: web.StreamResponse, name: str) -> None:
    response.del_cookie(name, path="/", secure=True, httponly=True, samesite="Lax")
