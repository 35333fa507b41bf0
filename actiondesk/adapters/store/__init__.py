"""The store: cases, approvals, action runs, the audit chain and state blobs in SQLite or PostgreSQL.

Migrate once with ``upgrade(url)``, then build one ``SqlStore(make_engine(url))`` per process; ``url`` is
``sqlite:///PATH`` or ``postgresql+psycopg://USER@HOST/DB``.
"""

from __future__ import annotations

from actiondesk.adapters.store.engine import make_engine
from actiondesk.adapters.store.migrate import current_revision, head_revision, schema_state, upgrade
from actiondesk.adapters.store.store import SqlStore
from actiondesk.adapters.store.views import StoreBlobs, StoreReports

__all__ = [
    "SqlStore",
    "StoreBlobs",
    "StoreReports",
    "current_revision",
    "head_revision",
    "make_engine",
    "schema_state",
    "upgrade",
]
