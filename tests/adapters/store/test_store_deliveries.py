from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

from actiondesk.adapters.store import SqlStore, current_revision, head_revision, migrate

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
VERSIONS = Path(migrate.__file__).parent / "migrations" / "versions"


def test_migrations_reach_the_head(store: SqlStore, database_url: str):
    newest = max(p.name[:4] for p in VERSIONS.glob("0*.py"))  # revisions are numbered 0001, 0002, ...
    assert current_revision(database_url) == head_revision() == newest


def test_a_delivery_key_is_remembered_once(store: SqlStore):
    with store.transaction() as uow:
        assert uow.remember("slack:Ev01", "slack", NOW) is True
    with store.transaction() as uow:
        assert uow.remember("slack:Ev01", "slack", NOW) is False
        assert uow.remember("slack:Ev02", "slack", NOW) is True


def test_a_rolled_back_delivery_is_forgotten(store: SqlStore):
    try:
        with store.transaction() as uow:
            assert uow.remember("teams:act-1", "teams", NOW)
            raise RuntimeError("the side effect failed")
    except RuntimeError:
        pass
    with store.transaction() as uow:
        assert uow.remember("teams:act-1", "teams", NOW) is True


def test_each_fire_has_exactly_one_owner_across_racing_replicas(store: SqlStore):
    winners: list[str] = []
    barrier = threading.Barrier(4)

    def replica(name: str) -> None:
        barrier.wait()
        if store.claim_fire("expire-approvals", NOW, name, NOW):
            winners.append(name)

    threads = [threading.Thread(target=replica, args=(f"r{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(winners) == 1
    assert store.claim_fire("expire-approvals", NOW.replace(minute=1), "r0", NOW) is True
