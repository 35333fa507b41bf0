"""Credentials for in-process tests of the console API: an API token of a directory person."""

from __future__ import annotations

from actiondesk.bot.auth import tokens
from actiondesk.bot.wiring.root import Runtime
from actiondesk.core.access import ALL_SCOPES, Scope


def bearer(runtime: Runtime, person: str, scopes: frozenset[Scope] = ALL_SCOPES) -> dict[str, str]:
    """Authorization headers carrying a fresh token of ``person`` with ``scopes``."""
    _, text = tokens.create(runtime.store.access, runtime.directory, person, scopes, runtime.clock.now())
    return {"Authorization": f"Bearer {text}"}
