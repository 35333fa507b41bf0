"""The Argo CD adapter and pack against a local server following Argo CD's REST contract: history, rollback
(execute, snapshot, rollback of the rollback) and the drift abort."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from argofake import REVISIONS, TOKEN, FakeArgo, fake_argocd
from packbench import execute, executor_with, refuses_drift, undo

from actiondesk.actions.executor import Executor
from actiondesk.actions.packs.argocd import ARGOCD
from actiondesk.adapters.argocd import ArgoCd
from actiondesk.adapters.store import SqlStore
from actiondesk.core.errors import ActionFailedError, NotFoundError
from actiondesk.core.plan import ActionCall

OLD, NEW = REVISIONS


@pytest.fixture
def argo() -> Iterator[tuple[ArgoCd, FakeArgo]]:
    with fake_argocd() as (url, fake):
        yield ArgoCd(url, TOKEN), fake


@pytest.fixture
def pack(argo: tuple[ArgoCd, FakeArgo], store: SqlStore) -> tuple[Executor, ArgoCd, FakeArgo]:
    client, fake = argo
    return executor_with(store, [ARGOCD], releases=client), client, fake


def test_reads_the_application_and_its_history(argo: tuple[ArgoCd, FakeArgo]) -> None:
    client, _ = argo
    app = client.application("checkout")
    assert (app.revision, app.sync_status, app.health) == (NEW, "Synced", "Healthy")
    assert [(r.id, r.revision) for r in app.history] == [(0, OLD), (1, NEW)]


def test_errors_carry_argo_cds_message(argo: tuple[ArgoCd, FakeArgo]) -> None:
    client, fake = argo
    with pytest.raises(NotFoundError, match='"nope" not found'):
        client.application("nope")
    fake.auto_sync = True
    with pytest.raises(ActionFailedError, match="auto-sync is enabled"):
        client.rollback("checkout", 0)
    with fake_argocd() as (url, _), pytest.raises(ActionFailedError, match="refused the service account"):
        ArgoCd(url, "stolen").application("checkout")


def test_rollback_and_roll_it_back(pack: tuple[Executor, ArgoCd, FakeArgo], store: SqlStore) -> None:
    executor, client, _ = pack
    call = ActionCall(action="rollback_application", params={"application": "checkout", "from_revision": NEW})

    run = execute(executor, call, "k/argo")

    assert client.application("checkout").revision == OLD
    assert run.snapshot == {"revision": NEW, "id": 1}
    undone = undo(executor, store, "k/argo")
    assert undone.params == {"application": "checkout", "to_id": 1}
    app = client.application("checkout")
    assert app.revision == NEW
    assert [r.revision for r in app.history] == [OLD, NEW, OLD, NEW]


def test_rollback_aborts_when_someone_deployed_since(pack: tuple[Executor, ArgoCd, FakeArgo], store: SqlStore) -> None:
    executor, client, fake = pack
    newer = "3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d"
    fake.deploy("checkout", newer)
    call = ActionCall(action="rollback_application", params={"application": "checkout", "from_revision": NEW})
    refuses_drift(executor, store, call, "k/argo", "runs 3c4d5e6.* now, not 2b3c4d5.*; someone deployed since")
    assert client.application("checkout").revision == newer
    assert not any(method == "POST" for method, _ in fake.requests)
