"""SqlAccess: console sessions, pending sign-ins and API tokens, on the store's database.

Only hashes are kept: the SHA-256 of a session id, of a sign-in's state, of a token's secret.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import Engine, RowMapping, bindparam, delete, insert, select, update

from actiondesk.adapters.store.engine import reading, reading_once, writing
from actiondesk.adapters.store.errors import translated
from actiondesk.adapters.store.tables import api_tokens, pending_logins, web_sessions
from actiondesk.core.access import ApiToken, PendingLogin, Scope, Via, WebSession

# read at every request of a credential's (bot/auth/guard.py): built once, each one statement (reading_once)
SESSION = select(web_sessions).where(
    web_sessions.c.id_hash == bindparam("id_hash"), web_sessions.c.expires_at > bindparam("now")
)
TOKEN = select(api_tokens).where(api_tokens.c.id == bindparam("token_id"))


def _token(row: RowMapping) -> ApiToken:
    return ApiToken(
        id=row["id"],
        person=row["person"],
        scopes=frozenset(Scope(s) for s in json.loads(row["scopes"])),
        secret_hash=row["secret_hash"],
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        revoked_at=row["revoked_at"],
        last_used_at=row["last_used_at"],
    )


class SqlAccess:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    # -- console sessions -----------------------------------------------------------------------------
    def add_session(self, session: WebSession) -> None:
        with translated(), writing(self._engine) as connection:
            connection.execute(insert(web_sessions).values(**session.model_dump(mode="python")))

    def session(self, id_hash: str, now: datetime) -> WebSession | None:
        """The session with that hash, unless it expired (or never existed)."""
        with translated(), reading_once(self._engine) as connection:
            row = connection.execute(SESSION, {"id_hash": id_hash, "now": now}).mappings().one_or_none()
        if row is None:
            return None
        return WebSession(**{**row, "via": Via(row["via"])})

    def end_session(self, id_hash: str) -> bool:
        with translated(), writing(self._engine) as connection:
            return connection.execute(delete(web_sessions).where(web_sessions.c.id_hash == id_hash)).rowcount == 1

    def purge(self, now: datetime) -> int:
        """Delete expired sessions and sign-ins that were never finished; how many rows went."""
        with translated(), writing(self._engine) as connection:
            gone = connection.execute(delete(web_sessions).where(web_sessions.c.expires_at <= now)).rowcount
            gone += connection.execute(delete(pending_logins).where(pending_logins.c.expires_at <= now)).rowcount
        return gone

    # -- sign-ins waiting for the issuer ----------------------------------------------------------------
    def add_login(self, login: PendingLogin) -> None:
        with translated(), writing(self._engine) as connection:
            connection.execute(insert(pending_logins).values(**login.model_dump(mode="python")))

    def take_login(self, state_hash: str, now: datetime) -> PendingLogin | None:
        """The pending sign-in for that state, removed so that it can be used only once; None if unknown or old."""
        query = select(pending_logins).where(pending_logins.c.state_hash == state_hash)
        with translated(), writing(self._engine) as connection:
            row = connection.execute(query).mappings().one_or_none()
            if row is None:
                return None
            taken = connection.execute(delete(pending_logins).where(pending_logins.c.state_hash == state_hash))
        if taken.rowcount != 1 or row["expires_at"] <= now:
            return None
        return PendingLogin(**row)

    # -- API tokens ------------------------------------------------------------------------------------
    def add_token(self, token: ApiToken) -> None:
        values = token.model_dump(mode="python")
        values["scopes"] = json.dumps(sorted(s.value for s in token.scopes))
        with translated(), writing(self._engine) as connection:
            connection.execute(insert(api_tokens).values(**values))

    def token(self, token_id: str) -> ApiToken | None:
        with translated(), reading_once(self._engine) as connection:
            row = connection.execute(TOKEN, {"token_id": token_id}).mappings().one_or_none()
        return None if row is None else _token(row)

    def tokens(self) -> list[ApiToken]:
        """Oldest first."""
        query = select(api_tokens).order_by(api_tokens.c.created_at, api_tokens.c.id)
        with translated(), reading(self._engine) as connection:
            return [_token(row) for row in connection.execute(query).mappings()]

    def revoke_token(self, token_id: str, now: datetime) -> bool:
        """False when there is no such token, or it was already revoked."""
        query = (
            update(api_tokens)
            .where(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        with translated(), writing(self._engine) as connection:
            return connection.execute(query).rowcount == 1

    def token_used(self, token_id: str, now: datetime) -> None:
        with translated(), writing(self._engine) as connection:
            connection.execute(update(api_tokens).where(api_tokens.c.id == token_id).values(last_used_at=now))
