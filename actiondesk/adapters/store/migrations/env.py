"""Alembic environment: runs on the connection ``actiondesk.adapters.store.migrate`` hands in."""

from __future__ import annotations

from alembic import context

from actiondesk.core.errors import ConfigurationError


def run_migrations() -> None:
    connection = context.config.attributes.get("connection")
    if context.is_offline_mode() or connection is None:
        raise ConfigurationError("run ActionDesk migrations with `actiondesk db upgrade`")
    context.configure(connection=connection, target_metadata=None)
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
