"""The store alone, for the commands that need nothing else (audit verify and export, tokens, the outbox, reports):
importing it does not import the runtime's adapters (the model client, the live systems' clients), so such a
command starts in about a second instead of several."""

from __future__ import annotations

from actiondesk.adapters.store import SqlStore, make_engine, upgrade
from actiondesk.core.settings import Settings


def open_store(settings: Settings, *, migrate: bool = True) -> SqlStore:
    """The store on ``settings.database_url``, migrated to head first unless ``migrate`` is False."""
    if migrate:
        upgrade(settings.database_url)
    return SqlStore(make_engine(settings.database_url))
