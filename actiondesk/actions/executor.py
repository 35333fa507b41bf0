"""The executor: the only door through which ActionDesk touches a managed system.

validate input → check scope → (mutating:) claim the run → re-observe → snapshot → run → observe → verify,
and the inverse when verification fails. Every stage is written to the audit trail; the run record makes a
mutating call happen at most once per idempotency key, across crashes and replicas.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from opentelemetry.trace import Status, StatusCode
from pydantic import JsonValue

from actiondesk.actions.catalog import AnySpec, Catalog
from actiondesk.actions.spec import ActionContext, ActionInput, ActionOutput, Out
from actiondesk.core.audit_payloads import ActionResult, ActionStarted, Observation, Payload
from actiondesk.core.errors import (
    ActionDeskError,
    ActionFailedError,
    ScopeError,
    StateDriftError,
    SystemUnavailableError,
)
from actiondesk.core.plan import ActionCall
from actiondesk.core.ports import Store, UnitOfWork
from actiondesk.core.runs import ActionRun, RunStatus
from actiondesk.core.tracing import span

log = logging.getLogger(__name__)

_MAX_AUDIT_ITEMS = 50


@dataclass(frozen=True)
class Execution:
    """The outcome of one mutating call."""

    run: ActionRun
    replayed: bool  # the run had already finished under this key; nothing was done again

    @property
    def succeeded(self) -> bool:
        return self.run.status is RunStatus.SUCCEEDED


def _json(output: ActionOutput) -> dict[str, JsonValue]:
    data = output.model_dump(mode="json")
    for key, value in data.items():  # keep audit entries bounded: long series and log pages are cut
        if isinstance(value, list) and len(value) > _MAX_AUDIT_ITEMS:
            data[key] = value[-_MAX_AUDIT_ITEMS:]
    return data


class Executor:
    def __init__(self, catalog: Catalog, ctx: ActionContext, store: Store, actor: str) -> None:
        self.catalog = catalog
        self._ctx = ctx
        self._store = store
        self._actor = actor

    def _audit(self, uow: UnitOfWork, case_id: str | None, payload: Payload) -> None:
        uow.append_audit(payload.draft(case_id, self._actor, self._ctx.clock.now()))

    def _validated(self, call: ActionCall, case_id: str | None, key: str | None) -> tuple[AnySpec, ActionInput]:
        """The catalog's validation; a call outside its pack's scopes is refused and the refusal audited."""
        try:
            return self.catalog.validate(call)
        except ScopeError as exc:
            log.warning("case %s: %s refused: %s", case_id, call.action, exc)
            with self._store.transaction() as uow:
                self._audit(
                    uow,
                    case_id,
                    ActionResult(
                        action=call.action,
                        params=dict(call.params),
                        key=key,
                        status="refused",
                        result=None,
                        error=str(exc),
                    ),
                )
            raise

    def probe(self, call: ActionCall, case_id: str | None) -> ActionOutput:
        """Run a read-only action and record what it observed."""
        return self.probe_as(call, case_id, ActionOutput)

    def probe_as(self, call: ActionCall, case_id: str | None, output: type[Out]) -> Out:
        """``probe``, typed: the action's output as ``output``. Raise ActionFailedError, before running it, when
        the action's declared output model is not ``output``."""
        with span("action.probe", {"actiondesk.action": call.action}):
            return self._probe(call, case_id, output)

    def _probe(self, call: ActionCall, case_id: str | None, expected: type[Out]) -> Out:
        spec, params = self._validated(call, case_id, None)
        if spec.mutating:
            raise ActionFailedError(f"{call.action} changes state; it cannot run as a probe")
        if not issubclass(spec.output_model, expected):
            raise ActionFailedError(f"{call.action} returns {spec.output_model.__name__}, not {expected.__name__}")
        output = spec.run(self._ctx, params)
        if not isinstance(output, expected):  # the spec broke its own contract
            raise ActionFailedError(f"{call.action} returned {type(output).__name__}, not {expected.__name__}")
        with self._store.transaction() as uow:
            self._audit(
                uow,
                case_id,
                Observation(
                    action=call.action, params=dict(call.params), summary=output.summary(), output=_json(output)
                ),
            )
        return output

    def execute(self, call: ActionCall, *, case_id: str | None, key: str) -> Execution:
        """Run a mutating action at most once for ``key``.

        Raises UnknownActionError, InvalidParametersError or ScopeError before anything is claimed, and
        StateDriftError when the re-observed state no longer warrants the action.
        """
        with span("action.run", {"actiondesk.action": call.action, "actiondesk.run_key": key}) as current:
            execution = self._execute(call, case_id=case_id, key=key)
            current.set_attribute("actiondesk.run_status", execution.run.status.value)
            current.set_attribute("actiondesk.replayed", execution.replayed)
            if not execution.succeeded:
                current.set_status(Status(StatusCode.ERROR, execution.run.error or execution.run.status.value))
            return execution

    def _execute(self, call: ActionCall, *, case_id: str | None, key: str) -> Execution:
        spec, params = self._validated(call, case_id, key)
        now = self._ctx.clock.now()
        with self._store.transaction() as uow:
            run, created = uow.claim_run(
                ActionRun(key=key, case_id=case_id, action=call.action, params=dict(call.params), started_at=now)
            )
            if created:
                self._audit(
                    uow,
                    case_id,
                    ActionStarted(action=call.action, params=dict(call.params), key=key, target=spec.target(params)),
                )
        if not created and (run.action, run.params) != (call.action, dict(call.params)):
            raise ActionFailedError(
                f"run key {key} already belongs to {run.action} {run.params}; "
                f"refusing to take {call.action} {dict(call.params)} for a replay of it"
            )
        if not created and run.status is not RunStatus.STARTED:
            log.info("case %s: run %s already finished as %s; not repeated", case_id, key, run.status)
            return Execution(run, replayed=True)
        try:
            observed = spec.observe(self._ctx, params)
        except ActionDeskError as exc:  # e.g. the target does not exist: the claimed run must not stay open
            self._finish(run, RunStatus.FAILED, None, error=f"could not observe the target: {exc}")
            if isinstance(exc, SystemUnavailableError):  # the system is down: a failure, not a refusal
                raise SystemUnavailableError(f"{call.action}: {exc}", exc.retry_after) from None
            raise ActionFailedError(f"{call.action}: could not observe the target: {exc}") from None
        if not created and spec.already_done(observed, params):
            # A previous attempt reached the system but crashed before recording its result.
            return Execution(self._finish(run, RunStatus.SUCCEEDED, {"reconciled": True, "observed": observed}), False)
        drift = spec.drift(observed, params)
        if drift is not None:
            self._finish(run, RunStatus.FAILED, {"observed": observed}, error=f"state drift: {drift}")
            raise StateDriftError(drift)
        snapshot = spec.snapshot(self._ctx, params)
        run = run.model_copy(update={"snapshot": snapshot})
        with self._store.transaction() as uow:
            uow.save_run(run)
        return self._run(spec, params, run)

    def _run(self, spec: AnySpec, params: ActionInput, run: ActionRun) -> Execution:
        try:
            output = spec.run(self._ctx, params)
        except ActionDeskError as exc:
            return Execution(self._finish(run, RunStatus.FAILED, None, error=str(exc)), False)
        except Exception as exc:  # the edge of a managed system: anything it throws is a failed action
            log.exception("case %s: %s raised", run.case_id, run.action)
            return Execution(self._finish(run, RunStatus.FAILED, None, error=f"{type(exc).__name__}: {exc}"), False)
        result = _json(output)
        problem = spec.verify(self._ctx, params, output)
        if problem is None:
            return Execution(self._finish(run, RunStatus.SUCCEEDED, result), False)
        undo = spec.inverse(run.snapshot or {}, params)
        if undo is not None:
            result = {**result, "inverse": dict(undo.params)}
            try:
                inverse_spec, inverse_params = self.catalog.validate(undo)
                inverse_spec.run(self._ctx, inverse_params)
            except Exception as exc:  # a failed undo is recorded as such, never left behind as a STARTED run
                log.exception("case %s: the inverse of %s failed", run.case_id, run.action)
                error = f"{problem}; its inverse {undo.action} failed too: {exc}"
                return Execution(self._finish(run, RunStatus.FAILED, result, error=error), False)
            return Execution(self._finish(run, RunStatus.ROLLED_BACK, result, error=problem), False)
        return Execution(self._finish(run, RunStatus.FAILED, result, error=problem), False)

    def _finish(
        self,
        run: ActionRun,
        status: RunStatus,
        result: dict[str, JsonValue] | None,
        *,
        error: str | None = None,
    ) -> ActionRun:
        done = run.model_copy(
            update={"status": status, "result": result, "error": error, "finished_at": self._ctx.clock.now()}
        )
        with self._store.transaction() as uow:
            uow.save_run(done)
            self._audit(
                uow,
                run.case_id,
                ActionResult(action=run.action, key=run.key, status=status.value, result=result, error=error),
            )
        return done
