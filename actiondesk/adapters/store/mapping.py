"""Rows to core models and back. JSON-valued fields are written as JSON text."""

from __future__ import annotations

import json

from pydantic import JsonValue
from sqlalchemy import RowMapping

from actiondesk.adapters.store.tables import ApprovalRow, RunRow
from actiondesk.core.approval import Approval
from actiondesk.core.audit import AuditEntry
from actiondesk.core.case import Case
from actiondesk.core.finding import Finding
from actiondesk.core.plan import ActionCall, Plan
from actiondesk.core.runs import ActionRun


def _dump(value: JsonValue) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


def _load_optional(text: str | None) -> dict[str, JsonValue] | None:
    """A stored JSON object (a run's snapshot or result), or None when nothing was stored."""
    if text is None:
        return None
    loaded = json.loads(text)
    if not isinstance(loaded, dict):
        raise ValueError(f"expected a stored JSON object, found {type(loaded).__name__}")
    return loaded


def _text(value: str) -> str:
    """PostgreSQL's text cannot hold NUL; a reported text may (a paste, a hostile message): store U+FFFD there."""
    return value.replace("\x00", "\ufffd")


def case_row(case: Case, version: int) -> dict[str, object]:
    """The ``cases`` row of ``case`` at ``version``, as the values of an insert or update (a plain mapping: this
    runs at every save of every case, and building a table model object for it costs more than the statement)."""
    return {
        "id": case.id,
        "kind": case.kind.value,
        "status": case.status.value,
        "title": _text(case.title),
        "text": _text(case.text),
        "reporter": _text(case.reporter),
        "surface": case.surface,
        "thread": _dump(dict(case.thread)),
        "service": case.service,
        "finding": case.finding.model_dump_json() if case.finding else None,
        "plan": case.plan.model_dump_json() if case.plan else None,
        "steps_taken": case.steps_taken,
        "tags": _dump(list(case.tags)),
        "created_at": case.created_at,
        "updated_at": case.updated_at,
        "resolved_at": case.resolved_at,
        "wake_at": case.wake_at,
        "watch_until": case.watch_until,
        "reopened": case.reopened,
        "llm_calls": case.llm_calls,
        "tokens": case.tokens,
        "cost_usd": case.cost_usd,
        "version": version,
        "lease_owner": None,
        "lease_until": None,
    }


def case_from(row: RowMapping) -> Case:
    return Case(
        id=row["id"],
        kind=row["kind"],
        status=row["status"],
        title=row["title"],
        text=row["text"],
        reporter=row["reporter"],
        surface=row["surface"],
        thread=json.loads(row["thread"]),
        service=row["service"],
        finding=Finding.model_validate_json(row["finding"]) if row["finding"] else None,
        plan=Plan.model_validate_json(row["plan"]) if row["plan"] else None,
        steps_taken=row["steps_taken"],
        tags=tuple(json.loads(row["tags"])),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        resolved_at=row["resolved_at"],
        wake_at=row["wake_at"],
        watch_until=row["watch_until"],
        reopened=row["reopened"],
        llm_calls=row["llm_calls"],
        tokens=row["tokens"],
        cost_usd=row["cost_usd"],
        version=row["version"],
    )


def approval_row(approval: Approval) -> ApprovalRow:
    return ApprovalRow(
        id=approval.id,
        case_id=approval.case_id,
        step_index=approval.step_index,
        call=approval.call.model_dump_json(),
        target=approval.target,
        approver_group=approval.group,
        quorum=approval.quorum,
        production=approval.production,
        status=approval.status.value,
        requested_by=approval.requested_by,
        proposed_by=approval.proposed_by,
        reasons=_dump(list(approval.reasons)),
        policy_ids=_dump(list(approval.policy_ids)),
        created_at=approval.created_at,
        expires_at=approval.expires_at,
        decided_by=approval.decided_by,
        decided_at=approval.decided_at,
        reason=approval.reason,
    )


def approval_from(row: RowMapping) -> Approval:
    return Approval(
        id=row["id"],
        case_id=row["case_id"],
        step_index=row["step_index"],
        call=ActionCall.model_validate_json(row["call"]),
        target=row["target"],
        group=row["approver_group"],
        quorum=row["quorum"],
        production=row["production"],
        status=row["status"],
        requested_by=row["requested_by"],
        proposed_by=row["proposed_by"],
        reasons=tuple(json.loads(row["reasons"])),
        policy_ids=tuple(json.loads(row["policy_ids"])),
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        decided_by=row["decided_by"],
        decided_at=row["decided_at"],
        reason=row["reason"],
    )


def run_row(run: ActionRun) -> RunRow:
    return RunRow(
        key=run.key,
        case_id=run.case_id,
        action=run.action,
        params=_dump(run.params),
        status=run.status.value,
        snapshot=None if run.snapshot is None else _dump(run.snapshot),
        result=None if run.result is None else _dump(run.result),
        error=run.error,
        started_at=run.started_at,
        finished_at=run.finished_at,
    )


def run_from(row: RowMapping) -> ActionRun:
    return ActionRun(
        key=row["key"],
        case_id=row["case_id"],
        action=row["action"],
        params=json.loads(row["params"]),
        status=row["status"],
        snapshot=_load_optional(row["snapshot"]),
        result=_load_optional(row["result"]),
        error=row["error"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
    )


def entry_from(row: RowMapping) -> AuditEntry:
    return AuditEntry(
        seq=row["seq"],
        kind=row["kind"],
        case_id=row["case_id"],
        actor=row["actor"],
        at=row["at"],
        payload=json.loads(row["payload"]),
        prev_hash=row["prev_hash"],
        hash=row["hash"],
    )
