"""Who is calling: the vocabulary of sign-in sessions, API tokens and the scopes they carry.

A ``Principal`` is a person of the directory, authenticated by a console session (OpenID Connect, or the
loopback-only demo) or by an API token, with the scopes that credential allows. Surfaces take the person from
it, never from a request body. Only hashes of session ids and token secrets are stored.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class Scope(StrEnum):
    CASES_READ = "cases:read"
    CASES_WRITE = "cases:write"
    APPROVE = "approve"


ALL_SCOPES = frozenset(Scope)


class Via(StrEnum):
    SESSION = "session"  # a console session, signed in through the OpenID Connect issuer
    DEMO = "demo"  # a console session of the loopback demo ("You are")
    TOKEN = "token"  # noqa: S105 - a kind of credential, not one. Authorization: Bearer, an API token


class Principal(BaseModel):
    model_config = ConfigDict(frozen=True)

    person: str
    scopes: frozenset[Scope]
    via: Via
    credential: str  # a token id, or the first characters of the session's hash: names it in the audit trail

    def may(self, scope: Scope) -> bool:
        return scope in self.scopes


class WebSession(BaseModel):
    model_config = ConfigDict(frozen=True)

    id_hash: str
    person: str
    email: str | None
    via: Via
    created_at: datetime
    expires_at: datetime


class ApiToken(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    person: str
    scopes: frozenset[Scope]
    secret_hash: str
    created_at: datetime
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None

    def usable(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)


class PendingLogin(BaseModel):
    """An authorization request sent to the issuer, waiting for its callback (single use)."""

    model_config = ConfigDict(frozen=True)

    state_hash: str
    code_verifier: str
    nonce: str
    next_path: str
    created_at: datetime
    expires_at: datetime


def digest(secret: str) -> str:
    """SHA-256 of a high-entropy secret (a session id, a token secret, a state): what the database keeps."""
    return hashlib.sha256(secret.encode()).hexdigest()
