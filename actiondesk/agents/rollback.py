"""Rollback on request: the inverse of a finished action run, proposed as a case of its own.

The inverse is computed by the action's spec from the snapshot the executor stored before the action ran; it
then goes through governance like any other call (allowed, sent for approval, suggested or refused).
"""

from __future__ import annotations

import contextlib
import logging

from actiondesk.actions.catalog import Catalog
from actiondesk.agents.loop import CaseLoop, shown
from actiondesk.core.case import Case, CaseKind
from actiondesk.core.errors import ActionError, InvalidParametersError, ScopeError
from actiondesk.core.plan import ActionCall, Plan, PlanStep
from actiondesk.core.ports import Store
from actiondesk.core.runs import RunStatus

log = logging.getLogger(__name__)


class RollbackDesk:
    def __init__(self, store: Store, catalog: Catalog, loop: CaseLoop) -> None:
        self._store = store
        self._catalog = catalog
        self._loop = loop

    def inverse(self, run_key: str) -> ActionCall:
        """The call that undoes the run; raise NotFoundError or ActionError (no inverse, not succeeded)."""
        run = self._store.get_run(run_key)  # NotFoundError for an unknown key
        if run.status is not RunStatus.SUCCEEDED:
            raise ActionError(f"run {run_key} ({run.action}) {run.status.value}; only a succeeded run is rolled back")
        spec = self._catalog.get(run.action)
        try:
            params = spec.input_model.model_validate(run.params)
        except ValueError:
            raise InvalidParametersError(
                f"run {run_key}: its parameters no longer validate against {run.action}"
            ) from None
        call = spec.inverse(run.snapshot or {}, params)
        if call is None:
            raise ActionError(f"{run.action} has no inverse (run {run_key} cannot be rolled back)")
        # An inverse the catalog cannot run (pack off, bad snapshot) is refused before a case opens; a scope
        # refusal is left to the executor, which audits it, should governance let the call through.
        with contextlib.suppress(ScopeError):
            self._catalog.validate(call)
        return call

    def request(self, run_key: str, by: str, *, surface: str = "console", thread: dict[str, str] | None = None) -> Case:
        """Open a request case whose plan is the run's inverse; the caller drives it (``loop.run``)."""
        call = self.inverse(run_key)
        run = self._store.get_run(run_key)
        step = PlanStep(index=0, call=call, rationale=f"undo {run.action} (run {run_key}), asked by {by}")
        plan = Plan(runbook="rollback", goal=f"roll back run {run_key}: {shown(call)}", steps=(step,))
        case = self._loop.open_case(
            f"rollback {run_key}: {shown(call)}",
            by,
            surface=surface,
            thread=thread,
            kind=CaseKind.REQUEST,
            service=str(run.params.get("service")) if isinstance(run.params.get("service"), str) else None,
            plan=plan,
        )
        log.info("case %s: rollback of run %s requested by %s", case.id, run_key, by)
        return case
