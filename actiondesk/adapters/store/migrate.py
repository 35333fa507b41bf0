"""Schema migrations, run programmatically through alembic (no alembic.ini needed).

``upgrade(url)`` brings any database to head in one transaction; on PostgreSQL it first takes an
advisory lock so replicas starting together do not migrate twice.
"""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.script.revision import ResolutionError
from alembic.util import CommandError
from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError, OperationalError

from actiondesk.adapters.store.engine import make_engine, reading, reading_once, writing
from actiondesk.core.errors import ConfigurationError

logger = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
VERSION = text("SELECT version_num FROM alembic_version")  # alembic's table, in the connection's schema
_MIGRATION_LOCK = 0x41444D47  # pg_advisory_xact_lock key: "ADMG", distinct from the scheduler's lock


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@cache
def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(_config())


def head_revision() -> str:
    """The revision the shipped migrations lead to."""
    head = _scripts().get_current_head()
    assert head is not None
    return head


def schema_state(revision: str | None) -> str:
    """How a database at ``revision`` stands to this code: ``current`` (at head), ``behind`` (an upgrade is
    due), ``ahead`` (a newer release migrated it: a revision these migrations do not know) or ``empty``."""
    if revision is None:
        return "empty"
    if revision == head_revision():
        return "current"
    try:
        known = _scripts().get_revision(revision)
    except (CommandError, ResolutionError):
        return "ahead"
    return "behind" if known is not None else "ahead"


def revision_of(engine: Engine) -> str | None:
    """The revision of the database behind ``engine`` (None when it was never migrated).

    Read first in one statement (`/readyz` asks at every probe): alembic's own reading, which first looks for its
    table, cost about 0.4 ms of CPU in a transaction of its own. When that statement fails on a live connection (no
    version table yet) or finds more than one row (branches), alembic's reading says which. A database that cannot
    be reached is not asked twice."""
    try:
        with reading_once(engine) as connection:
            try:
                found: list[str] | None = list(connection.execute(VERSION).scalars())
            except DBAPIError as exc:
                if exc.connection_invalidated:
                    raise
                found = None
        if found is not None and len(found) <= 1:
            return found[0] if found else None
        with reading(engine) as connection:
            return MigrationContext.configure(connection).get_current_revision()
    except OperationalError as exc:
        raise ConfigurationError(f"cannot read the database's revision: {exc.orig}") from exc


def upgrade(url: str | URL) -> None:
    """Bring the database at ``url`` to the head revision."""
    engine = make_engine(url)
    try:
        with reading(engine) as connection:  # already at head (every start but the first): no alembic run
            if MigrationContext.configure(connection).get_current_revision() == head_revision():
                return
        with writing(engine) as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
            before = MigrationContext.configure(connection).get_current_revision()
            command.upgrade(_config(connection), "head")
        after = head_revision()
        if before != after:
            logger.info("database migrated from revision %s to %s", before, after)
    except OperationalError as exc:
        raise ConfigurationError(f"cannot migrate the database: {exc.orig}") from exc
    finally:
        engine.dispose()


def current_revision(url: str | URL) -> str | None:
    """The database's revision, or None when it was never migrated."""
    engine = make_engine(url)
    try:
        return revision_of(engine)
    finally:
        engine.dispose()
