"""`actiondesk token create|list|revoke`: API tokens for automation.

``create`` prints the token once; the database keeps only its id and the SHA-256 of its secret. Creating and
revoking are audit entries.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

from actiondesk.core.errors import ActionDeskError

if TYPE_CHECKING:
    from actiondesk.adapters.store import SqlStore
    from actiondesk.core.audit_payloads import Payload
    from actiondesk.core.ports import Directory
    from actiondesk.core.settings import Settings

token_app = typer.Typer(help="API tokens for automation (Authorization: Bearer).", no_args_is_help=True)


def _settings() -> Settings:
    from actiondesk.bot.cli.support import load_settings as settings

    return settings()


def _fail(exc: ActionDeskError) -> typer.Exit:
    typer.echo(f"error: {exc}", err=True)
    return typer.Exit(2)


def _directory(settings: Settings, store: SqlStore) -> Directory:
    """The directory `serve` uses: ACTIONDESK_DIRECTORY_FILE, else the sandbox estate's people."""
    from actiondesk.adapters.directory import YamlDirectory
    from actiondesk.bot.wiring.boot import serve_estate
    from actiondesk.core.clock import SystemClock

    if settings.directory_file is not None:
        return YamlDirectory.from_file(settings.directory_file)
    estate, _ = serve_estate(settings, store, SystemClock())
    return estate


def _audit(store: SqlStore, person: str, payload: Payload) -> None:
    from actiondesk.core.clock import SystemClock

    with store.transaction() as uow:
        uow.append_audit(payload.draft(None, person, SystemClock().now()))


@token_app.command("create")
def token_create(
    person: Annotated[str, typer.Option("--person", help="The directory person the token acts as.")],
    scopes: Annotated[str, typer.Option("--scopes", help="Comma-separated: cases:read, cases:write, approve.")],
    expires: Annotated[str | None, typer.Option("--expires", help="Lifetime: 90m, 12h, 30d, 2w; default none.")] = None,
) -> None:
    """Create a token and print it once (it cannot be shown again)."""
    from actiondesk.bot.auth import tokens
    from actiondesk.bot.wiring.stores import open_store
    from actiondesk.core.audit_payloads import TokenCreated
    from actiondesk.core.clock import SystemClock

    settings = _settings()
    try:
        wanted = tokens.parse_scopes(scopes)
        lifetime = tokens.parse_duration(expires) if expires else None
        store = open_store(settings)
        token, text = tokens.create(
            store.access, _directory(settings, store), person, wanted, SystemClock().now(), lifetime
        )
        shown = sorted(s.value for s in token.scopes)
        _audit(store, person, TokenCreated(token=token.id, scopes=shown))
    except ActionDeskError as exc:
        raise _fail(exc) from None
    until = f", expires {token.expires_at.isoformat()}" if token.expires_at else ", no expiry"
    typer.echo(f"token {token.id} for {person} ({', '.join(shown)}{until}); shown once, keep it secret:", err=True)
    typer.echo(text)


@token_app.command("list")
def token_list(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Every token: id, person, scopes, created, expires, revoked, last used (never the secret)."""
    from actiondesk.bot.wiring.stores import open_store

    try:
        found = open_store(_settings(), migrate=False).access.tokens()
    except ActionDeskError as exc:
        raise _fail(exc) from None
    rows = [
        {
            "id": t.id,
            "person": t.person,
            "scopes": sorted(s.value for s in t.scopes),
            "created_at": t.created_at.isoformat(),
            "expires_at": t.expires_at.isoformat() if t.expires_at else None,
            "revoked_at": t.revoked_at.isoformat() if t.revoked_at else None,
            "last_used_at": t.last_used_at.isoformat() if t.last_used_at else None,
        }
        for t in found
    ]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        state = "revoked" if row["revoked_at"] else f"expires {row['expires_at'] or 'never'}"
        typer.echo(f"{row['id']}  {row['person']:<12} {','.join(row['scopes']):<30} {state}")  # type: ignore[arg-type]


@token_app.command("revoke")
def token_revoke(token_id: Annotated[str, typer.Argument(help="The token's id (from `token list`).")]) -> None:
    """Revoke a token: every request with it is refused from now on."""
    from actiondesk.bot.wiring.stores import open_store
    from actiondesk.core.audit_payloads import TokenRevoked
    from actiondesk.core.clock import SystemClock

    try:
        store = open_store(_settings(), migrate=False)
        token = store.access.token(token_id)
        if token is None or not store.access.revoke_token(token_id, SystemClock().now()):
            typer.echo(f"error: no active token {token_id}", err=True)
            raise typer.Exit(2)
        _audit(store, token.person, TokenRevoked(token=token_id))
    except ActionDeskError as exc:
        raise _fail(exc) from None
    typer.echo(f"token {token_id} revoked")
