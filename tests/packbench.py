"""Test helper for the pack tests: execute a call through the real executor, then undo it the way a rollback
does (the spec's inverse from the stored snapshot), and check the drift abort."""

from __future__ import annotations

import pytest

from actiondesk.actions.catalog import Catalog, Pack
from actiondesk.actions.executor import Executor
from actiondesk.actions.spec import ActionContext
from actiondesk.adapters.sandbox import DEFAULT_START, SandboxEstate, default_estate
from actiondesk.core.clock import SimulatedClock
from actiondesk.core.errors import StateDriftError
from actiondesk.core.plan import ActionCall
from actiondesk.core.ports import Store
from actiondesk.core.runs import ActionRun, RunStatus


def execute(executor: Executor, call: ActionCall, key: str) -> ActionRun:
    execution = executor.execute(call, case_id=None, key=key)
    assert execution.run.status is RunStatus.SUCCEEDED, execution.run.error
    return execution.run


def undo(executor: Executor, store: Store, key: str) -> ActionRun:
    """Run the inverse of the stored run ``key``, computed from its stored snapshot."""
    run = store.get_run(key)
    assert run.snapshot, f"{run.action} stored no snapshot"
    spec = executor.catalog.get(run.action)
    inverse = spec.inverse(run.snapshot, spec.input_model.model_validate(run.params))
    assert inverse is not None, f"{run.action} has no inverse"
    return execute(executor, inverse, f"{key}/undo")


def refuses_drift(executor: Executor, store: Store, call: ActionCall, key: str, why: str) -> None:
    with pytest.raises(StateDriftError, match=why):
        executor.execute(call, case_id=None, key=key)
    run = store.get_run(key)
    assert run.status is RunStatus.FAILED
    assert run.error is not None
    assert run.error.startswith("state drift: ")


def executor_with(store: Store, packs: list[Pack], **ports: object) -> Executor:
    """An executor over ``packs`` with the given ports; the skeleton's ports come from a default sandbox."""
    clock = ports.pop("clock", None) or SimulatedClock(DEFAULT_START)
    estate = SandboxEstate(default_estate(DEFAULT_START), clock)  # type: ignore[arg-type]
    ctx = ActionContext(inventory=estate, telemetry=estate, deployer=estate, clock=clock, **ports)  # type: ignore[arg-type]
    return Executor(Catalog(packs), ctx, store, "actiondesk")
