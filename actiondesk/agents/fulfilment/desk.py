"""The request-fulfilment desk: turns an onboarding or offboarding request (a chat message or a form) into one
request case whose plan carries the Identity, Hardware and Access agents' steps, and offers what a stopped chain
needs: compensation of the completed steps (a governed case of their inverses) or a hand-off to a person.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from pydantic import JsonValue

from actiondesk.actions.catalog import Catalog
from actiondesk.actions.executor import Executor
from actiondesk.actions.packs.accounts import AccountOutput
from actiondesk.actions.packs.groups import UserGroupsOutput
from actiondesk.actions.packs.hardware import OrdersOutput
from actiondesk.agents.fulfilment.forms import (
    OFFBOARD,
    ONBOARD,
    HireForm,
    check_hire,
    read_offboarding,
    read_onboarding,
)
from actiondesk.agents.fulfilment.plans import compensation_plan, offboarding_plan, onboarding_plan
from actiondesk.agents.fulfilment.roles import RoleCatalog
from actiondesk.agents.record import Recorder, say
from actiondesk.core.audit_payloads import CaseEscalated
from actiondesk.core.case import Case, CaseKind, CaseStatus
from actiondesk.core.errors import ActionDeskError, ActionError, InvalidRequestError
from actiondesk.core.fulfilment import Hire, Leaver
from actiondesk.core.plan import ActionCall, Plan, StepStatus
from actiondesk.core.ports import Clock, Directory, Store
from actiondesk.core.runs import RunStatus

log = logging.getLogger(__name__)

Opener = Callable[..., Case]  # CaseLoop.open_case


class FulfilmentDesk:
    def __init__(
        self,
        store: Store,
        catalog: Catalog,
        executor: Executor,
        recorder: Recorder,
        roles: RoleCatalog,
        directory: Directory,
        clock: Clock,
    ) -> None:
        self._store = store
        self._catalog = catalog
        self._executor = executor
        self._recorder = recorder
        self.roles = roles
        self._directory = directory
        self._clock = clock
        self._open: Opener | None = None

    def bind(self, open_case: Opener) -> None:
        """Where request cases are opened (the case loop's ``open_case``)."""
        self._open = open_case

    # From chat: the loop's intake

    def intake(self, case: Case) -> Plan | str | None:
        """The plan of an onboarding or offboarding message; a sentence saying what is wrong with one; None for
        any other message."""
        today = self._clock.now().date()
        try:
            if ONBOARD.match(case.text):
                hire = check_hire(read_onboarding(case.text), self.roles, self._directory, today)
                return onboarding_plan(hire, self.roles.roles[hire.role], today)
            if OFFBOARD.match(case.text):
                return self._offboarding(case, read_offboarding(case.text, today))
        except InvalidRequestError as exc:
            return str(exc)
        except ActionDeskError as exc:
            return f"I could not prepare the request: {exc}"
        return None

    def _offboarding(self, case: Case, leaver: Leaver) -> Plan:
        who: dict[str, JsonValue] = {"user": leaver.user}
        self._executor.probe_as(ActionCall(action="get_user_account", params=who), case.id, AccountOutput)
        groups = self._executor.probe_as(ActionCall(action="get_user_groups", params=who), case.id, UserGroupsOutput)
        orders = self._executor.probe_as(ActionCall(action="get_hardware_orders", params=who), case.id, OrdersOutput)
        return offboarding_plan(leaver, list(groups.groups), list(orders.orders))

    # From a form (console, Slack modal, Teams card)

    def check(self, form: HireForm) -> Hire:
        """The hire, or InvalidRequestError with a message per field."""
        return check_hire(form, self.roles, self._directory, self._clock.now().date())

    def onboard(
        self, form: HireForm, by: str, *, surface: str = "console", thread: dict[str, str] | None = None
    ) -> Case:
        """Check every field, then open the request case (the caller drives it with ``loop.run``)."""
        hire = self.check(form)
        plan = onboarding_plan(hire, self.roles.roles[hire.role], self._clock.now().date())
        assert self._open is not None
        text = (
            f"onboard {hire.given_name} {hire.family_name} (username {hire.user}, email {hire.email}) as {hire.role}, "
            f"starting {hire.start.isoformat()}, manager {hire.manager}"
        )
        return self._open(text, by, surface=surface, thread=thread, kind=CaseKind.REQUEST, plan=plan)

    # After a stopped chain

    def inverses(self, case_id: str) -> list[ActionCall]:
        """The undo of every succeeded step of the case, newest first (from the snapshots taken before each ran)."""
        case = self._store.get_case(case_id)
        if case.plan is None:
            raise ActionError(f"{case_id} has no plan: nothing to compensate")
        runs = {r.key: r for r in self._store.runs(case_id)}
        calls: list[ActionCall] = []
        for step in reversed(case.plan.steps):
            if step.status is not StepStatus.SUCCEEDED or step.run_key is None:
                continue
            run = runs.get(step.run_key)
            if run is None or run.status is not RunStatus.SUCCEEDED:
                continue
            spec = self._catalog.get(run.action)
            undo = spec.inverse(run.snapshot or {}, spec.input_model.model_validate(run.params))
            if undo is not None:
                calls.append(undo)
        if not calls:
            raise ActionError(f"{case_id} has no completed step to undo")
        return calls

    def compensate(
        self, case_id: str, by: str, *, surface: str = "console", thread: dict[str, str] | None = None
    ) -> Case:
        """Open a request case whose plan undoes the completed steps; governance decides each like any call."""
        calls = self.inverses(case_id)
        original = self._store.get_case(case_id)
        assert self._open is not None
        case = self._open(
            f"compensate {case_id}: undo {len(calls)} completed steps",
            by,
            surface=surface,
            thread=thread or dict(original.thread),
            kind=CaseKind.REQUEST,
            plan=compensation_plan(case_id, calls),
        )
        with self._store.transaction() as uow:
            self._recorder.append(uow, case_id, [say(f"{by} asked to undo the completed steps: case {case.id}.")])
        self._recorder.changed(case_id)
        log.info("case %s: compensation %s opened by %s", case_id, case.id, by)
        return case

    def hand_off(self, case_id: str, by: str) -> Case:
        """Give a stopped request to a person: the case is escalated and its ticket goes to the assignment group."""
        case = self._store.get_case(case_id)
        if case.status is not CaseStatus.FAILED:
            raise ActionError(f"{case_id} is {case.status.value}; only a stopped request is handed off")
        why = f"handed off by {by}: the request stopped part-way"
        return self._recorder.save(
            case.moved(CaseStatus.ESCALATED, self._clock.now()),
            CaseEscalated(reason=why),
            say(f"Handed to a person ({by}). The completed steps stay as they are."),
        )
