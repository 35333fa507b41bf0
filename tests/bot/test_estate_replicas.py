"""Two replicas on one database share one sandbox estate: each sees the other's changes, and neither
overwrites them. Found under load: the estate was one blob each replica rewrote from its own copy (last writer
wins), so a person whose VPN session one replica had reset showed as locked again, and a second reset ran."""

from __future__ import annotations

import threading

import pytest

from actiondesk.adapters.sandbox import FaultEvent, FaultKind
from actiondesk.adapters.store import SqlStore
from actiondesk.bot.wiring.boot import serve_estate
from actiondesk.bot.wiring.root import build_runtime, policy_from_settings
from actiondesk.core.clock import SystemClock
from actiondesk.core.errors import StateDriftError
from actiondesk.core.plan import ActionCall
from actiondesk.core.settings import Settings


def _replica(store: SqlStore, database_url: str):  # type: ignore[no-untyped-def]
    settings = Settings(_env_file=None, database_url=database_url)  # type: ignore[call-arg]
    clock = SystemClock()
    estate, _ = serve_estate(settings, store, clock)
    return estate, build_runtime(settings, store, estate, clock, policy_from_settings(settings))


def test_a_reset_on_one_replica_is_seen_by_the_other_and_a_second_reset_does_not_run(store, database_url):
    first, first_runtime = _replica(store, database_url)
    second, second_runtime = _replica(store, database_url)
    first.apply(FaultEvent(kind=FaultKind.ACCOUNT_LOCKED, user="frank"))
    assert second.vpn_session("frank").value == "locked"  # the lock, made on the first replica

    reset = ActionCall(action="reset_vpn_session", params={"user": "frank"})
    first_runtime.executor.execute(reset, case_id=None, key="C-1/step-0")
    assert second.vpn_session("frank").value == "active"

    second.clear_volume("worker-1")  # a change on the second replica, from its own (refreshed) copy ...
    assert first.vpn_session("frank").value == "active"  # ... does not bring the lock back
    with pytest.raises(StateDriftError, match="active now, not locked"):  # no second reset
        second_runtime.executor.execute(reset, case_id=None, key="C-2/step-0")
    locks = [f for f in first.state.faults if f.kind is FaultKind.ACCOUNT_LOCKED and f.user == "frank"]
    assert locks, "the default world locks frank's session, and the test locks it again"
    assert all(f.end is not None for f in locks), "one reset ended them all"


def test_concurrent_changes_on_two_replicas_are_all_kept(store, database_url):
    first, _ = _replica(store, database_url)
    second, _ = _replica(store, database_url)
    users = ["alice", "frank", "dave"]

    def lock_and_unlock(estate, user: str) -> None:  # type: ignore[no-untyped-def]
        for _ in range(5):
            estate.lock_vpn_session(user)
            estate.unlock_vpn_session(user)
        estate.lock_vpn_session(user)

    threads = [
        threading.Thread(target=lock_and_unlock, args=(first if i % 2 else second, user))
        for i, user in enumerate(users)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for estate in (first, second):
        assert {u: estate.vpn_session(u).value for u in users} == dict.fromkeys(users, "locked")
    assert store.blob_version("sandbox-estate") == 1 + 3 * 11  # the seed, then every change once, none lost
