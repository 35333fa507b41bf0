"""The service-desk staples (hosts, vpn, identity packs) on the sandbox estate and the account book, through the
real executor and store: execute, snapshot, rollback, and the drift abort of each destructive action."""

from __future__ import annotations

import pytest
from packbench import execute, refuses_drift, undo

from actiondesk.actions.catalog import Catalog
from actiondesk.actions.executor import Executor
from actiondesk.actions.packs.access import IDENTITY, VPN
from actiondesk.actions.packs.hosts import HOSTS
from actiondesk.actions.spec import ActionContext
from actiondesk.adapters.identity import AccountBook
from actiondesk.adapters.sandbox import DEFAULT_START, FaultEvent, FaultKind, SandboxEstate, default_estate
from actiondesk.adapters.sandbox.staples import SandboxStaples
from actiondesk.adapters.store import SqlStore
from actiondesk.core.audit import AuditKind
from actiondesk.core.clock import SimulatedClock
from actiondesk.core.errors import NotFoundError, ScopeError
from actiondesk.core.plan import ActionCall


class Staples:
    def __init__(self, store: SqlStore, granted: dict[str, list[str]] | None = None) -> None:
        self.store = store
        self.clock = SimulatedClock(DEFAULT_START)
        self.estate = SandboxEstate(default_estate(DEFAULT_START), self.clock)
        self.staples = SandboxStaples(self.estate, self.clock)
        self.accounts = AccountBook(["alice", "frank"], store)
        ctx = ActionContext(
            inventory=self.estate,
            telemetry=self.estate,
            deployer=self.estate,
            clock=self.clock,
            volumes=self.staples,
            vpn=self.staples,
            identity=self.accounts,
        )
        self.executor = Executor(Catalog([HOSTS, VPN, IDENTITY], granted), ctx, store, "actiondesk")


@pytest.fixture
def bench(store: SqlStore) -> Staples:
    return Staples(store)


def test_clear_full_log_volume_archives_first_and_rolls_back(bench: Staples) -> None:
    bench.estate.apply(FaultEvent(kind=FaultKind.DISK_FULL, host="worker-1"))
    call = ActionCall(action="clear_log_volume", params={"host": "worker-1"})

    run = execute(bench.executor, call, "k/clear")

    assert bench.staples.volume("worker-1").used_pct < 90
    assert run.snapshot is not None
    assert run.snapshot["used_pct"] == 100.0
    assert str(run.snapshot["archive"]).startswith("archive://worker-1/var/log/")
    undone = undo(bench.executor, bench.store, "k/clear")
    assert undone.action == "restore_log_volume"
    assert bench.staples.volume("worker-1").used_pct == 100.0
    # and the restore is itself undoable: clearing again
    undo(bench.executor, bench.store, "k/clear/undo")
    assert bench.staples.volume("worker-1").used_pct < 90


def test_clear_log_volume_aborts_when_the_volume_is_no_longer_full(bench: Staples) -> None:
    call = ActionCall(action="clear_log_volume", params={"host": "worker-1"})  # 62 % full: drifted
    refuses_drift(bench.executor, bench.store, call, "k/clear", "62% full now, under 90%")
    assert bench.staples.volume("worker-1").used_pct == 62.0


def test_reset_locked_vpn_session_and_roll_back(bench: Staples) -> None:
    bench.estate.apply(FaultEvent(kind=FaultKind.ACCOUNT_LOCKED, user="frank"))
    call = ActionCall(action="reset_vpn_session", params={"user": "frank"})

    run = execute(bench.executor, call, "k/vpn")

    assert bench.staples.vpn_session("frank") == "active"
    assert run.snapshot == {"user": "frank", "status": "locked"}
    assert undo(bench.executor, bench.store, "k/vpn").action == "lock_vpn_session"
    assert bench.staples.vpn_session("frank") == "locked"
    assert undo(bench.executor, bench.store, "k/vpn/undo").action == "reset_vpn_session"
    assert bench.staples.vpn_session("frank") == "active"


def test_reset_vpn_session_aborts_when_it_is_not_locked(bench: Staples) -> None:
    call = ActionCall(action="reset_vpn_session", params={"user": "frank"})
    refuses_drift(bench.executor, bench.store, call, "k/vpn", "frank's VPN session is active now, not locked")


def test_reset_password_sends_a_ticket_and_rolls_back_to_the_old_credential(bench: Staples) -> None:
    bench.accounts.lock("alice")
    call = ActionCall(action="reset_password", params={"user": "alice"})

    run = execute(bench.executor, call, "k/pw")

    account = bench.accounts.account("alice")
    assert (account.locked, account.must_change_password) == (False, True)
    assert account.pending_reset is not None
    assert run.snapshot == {"user": "alice", "locked": True, "pending_reset": None}
    assert undo(bench.executor, bench.store, "k/pw").action == "cancel_password_reset"
    account = bench.accounts.account("alice")
    assert (account.locked, account.must_change_password, account.pending_reset) == (True, False, None)
    assert undo(bench.executor, bench.store, "k/pw/undo").action == "reset_password"
    assert bench.accounts.account("alice").pending_reset is not None


def test_reset_password_aborts_when_a_reset_is_already_pending(bench: Staples) -> None:
    bench.accounts.reset_password("alice")
    call = ActionCall(action="reset_password", params={"user": "alice"})
    refuses_drift(bench.executor, bench.store, call, "k/pw", "already has a password reset pending")


def test_account_book_survives_a_restart(bench: Staples) -> None:
    bench.accounts.lock("frank")
    assert AccountBook(["alice", "frank"], bench.store).account("frank").locked


def test_a_call_outside_the_packs_scopes_is_refused_and_audited(store: SqlStore) -> None:
    bench = Staples(store, {"identity": ["identity:read"]})
    executor = bench.executor
    bench.accounts.lock("alice")

    with pytest.raises(ScopeError, match="needs scope 'identity:write', which pack 'identity' is not granted"):
        executor.execute(ActionCall(action="reset_password", params={"user": "alice"}), case_id=None, key="k/pw")

    assert bench.accounts.account("alice").locked, "nothing was done"
    with pytest.raises(NotFoundError):
        store.get_run("k/pw")
    (refusal,) = [e for e in store.audit() if e.kind is AuditKind.ACTION_RESULT]
    assert refusal.payload["status"] == "refused"
    assert refusal.payload["action"] == "reset_password"
    assert "identity:write" in str(refusal.payload["error"])
    assert executor.probe(ActionCall(action="get_account", params={"user": "alice"}), None).summary() == (
        "alice's account is locked"
    )
