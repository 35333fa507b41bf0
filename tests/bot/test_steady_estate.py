"""``steady_estate``: inside it a replica's reads of the shared estate check the stored version once, not once
per read, and see one picture; its own changes show at once, another replica's from the next block on."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from actiondesk.adapters.store import SqlStore
from actiondesk.bot.wiring.boot import serve_estate, steady_estate
from actiondesk.core.clock import SystemClock
from actiondesk.core.settings import Settings


def _counted(store: SqlStore, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    checks: list[str] = []
    version = store.blob_version

    def counted(name: str) -> int | None:
        checks.append(name)
        return version(name)

    monkeypatch.setattr(store, "blob_version", counted)
    return checks


def _elsewhere(change: Callable[[], object]) -> None:
    """Another replica's change: on a thread of its own, outside this test's steady block."""
    thread = threading.Thread(target=change)
    thread.start()
    thread.join()


def test_reads_in_a_steady_block_check_the_stored_version_once(
    store: SqlStore, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(_env_file=None, database_url=database_url)  # type: ignore[call-arg]
    estate, _ = serve_estate(settings, store, SystemClock())
    checks = _counted(store, monkeypatch)

    for _ in range(3):
        estate.vpn_session("frank")
    assert len(checks) == 3  # outside a block: every read checks

    checks.clear()
    with steady_estate():
        for _ in range(5):
            estate.vpn_session("frank")
            estate.vpn_session("alice")
    assert len(checks) == 1


def test_a_steady_block_sees_its_own_changes_and_another_replicas_from_the_next_block(
    store: SqlStore, database_url: str
) -> None:
    settings = Settings(_env_file=None, database_url=database_url)  # type: ignore[call-arg]
    first, _ = serve_estate(settings, store, SystemClock())
    second, _ = serve_estate(settings, store, SystemClock())
    first.unlock_vpn_session("frank")
    first.unlock_vpn_session("alice")

    with steady_estate():
        assert first.vpn_session("frank").value == "active"
        _elsewhere(lambda: second.lock_vpn_session("frank"))  # another replica's change, while this block reads
        assert first.vpn_session("frank").value == "active"  # the picture the block began with
        first.lock_vpn_session("alice")  # a change here starts from what is stored, the other's change too
        assert first.vpn_session("alice").value == "locked"
        assert first.vpn_session("frank").value == "locked"  # what the change read is what the block reads now
    with steady_estate():
        assert first.vpn_session("frank").value == "locked"
    second.unlock_vpn_session("alice")
    assert first.vpn_session("alice").value == "active"  # outside a block: seen at once


def test_a_failed_change_in_a_steady_block_checks_again(store: SqlStore, database_url: str) -> None:
    settings = Settings(_env_file=None, database_url=database_url)  # type: ignore[call-arg]
    first, _ = serve_estate(settings, store, SystemClock())
    second, _ = serve_estate(settings, store, SystemClock())
    first.unlock_vpn_session("frank")

    def broken(state: object) -> tuple[object, None]:
        raise RuntimeError("a mutation that fails")

    with steady_estate():
        assert first.vpn_session("frank").value == "active"
        _elsewhere(lambda: second.lock_vpn_session("frank"))
        assert first.vpn_session("frank").value == "active"
        with pytest.raises(RuntimeError):
            first.change(broken)  # type: ignore[arg-type]
        assert first.vpn_session("frank").value == "locked"  # rolled back: the next read checks the store
