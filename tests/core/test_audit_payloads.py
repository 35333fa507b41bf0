"""The typed audit payloads: every kind has one, the stored JSON keeps its shape, old and unknown keys survive."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import JsonValue

from actiondesk.core.audit import AuditDraft, AuditKind, canonical_json
from actiondesk.core.audit_payloads import (
    PAYLOADS,
    ActionResult,
    ApprovalRequested,
    CaseEscalated,
    CaseOpened,
    Message,
    PickedUp,
    parse,
    read,
)

AT = datetime(2026, 11, 2, 9, 2, tzinfo=UTC)


def draft(kind: AuditKind, payload: dict[str, JsonValue]) -> AuditDraft:
    return AuditDraft(kind=kind, case_id="C-1", actor="actiondesk", at=AT, payload=payload)


def test_every_kind_has_its_model_and_each_model_its_kind() -> None:
    assert set(PAYLOADS) == set(AuditKind)
    assert all(model.kind is kind for kind, model in PAYLOADS.items())


def test_a_writer_stores_only_the_keys_it_set() -> None:
    assert CaseEscalated(reason="suggest only").dump() == {"reason": "suggest only"}
    assert CaseEscalated(reason="x", step=2).dump() == {"reason": "x", "step": 2}
    assert Message(text="hi", approval_id="A-1").dump() == {"text": "hi", "approval_id": "A-1"}


def test_an_explicit_null_is_kept_and_a_key_left_out_stays_out() -> None:
    refused = ActionResult(action="restart_service", key=None, status="refused", result=None, error="scope")

    assert refused.dump() == {"action": "restart_service", "key": None, "status": "refused", "result": None,
                              "error": "scope"}  # fmt: skip
    assert "params" not in refused.dump()


def test_numbers_keep_their_json_spelling() -> None:
    assert canonical_json(PickedUp(by="bob", how="replied", after_seconds=60).dump()) == (
        '{"after_seconds":60,"by":"bob","how":"replied"}'
    )
    assert canonical_json(PickedUp(by="bob", how="replied", after_seconds=60.5).dump()).startswith(
        '{"after_seconds":60.5,'
    )


def test_the_case_kind_key_of_case_opened_reads_and_writes_as_kind() -> None:
    opened = CaseOpened(case_kind="incident", title="t", surface="slack", reporter="alice")

    assert opened.dump() == {"kind": "incident", "title": "t", "surface": "slack", "reporter": "alice"}
    assert read(draft(AuditKind.CASE_OPENED, opened.dump()), CaseOpened).case_kind == "incident"


def test_an_old_row_missing_optional_keys_parses_with_defaults() -> None:
    asked = read(draft(AuditKind.APPROVAL_REQUESTED, {"id": "A-1"}), ApprovalRequested)

    assert (asked.id, asked.group, asked.target, asked.action) == ("A-1", "", None, None)


def test_unknown_keys_are_kept_and_written_back_as_they_came() -> None:
    stored: dict[str, JsonValue] = {"text": "hello", "from_a_future_version": {"n": 1.0, "list": [1, "a", None]}}

    parsed = parse(draft(AuditKind.MESSAGE, stored))

    assert isinstance(parsed, Message)
    assert parsed.dump() == stored
    assert canonical_json(parsed.dump()) == canonical_json(stored)


def test_reading_an_entry_as_another_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="does not hold a Message"):
        read(draft(AuditKind.CASE_FAILED, {"reason": "x"}), Message)


def test_a_payload_drafts_an_entry_of_its_own_kind() -> None:
    made = CaseEscalated(reason="why").draft("C-1", "actiondesk", AT)

    assert made == draft(AuditKind.CASE_ESCALATED, {"reason": "why"})


def test_every_payload_of_the_pinned_trails_parses_and_dumps_back_unchanged() -> None:
    folder = Path(__file__).resolve().parents[1] / "bot" / "audit-export"
    seen: set[AuditKind] = set()
    for line in (line for path in sorted(folder.glob("*.jsonl")) for line in path.read_text().splitlines()):
        stored = json.loads(line)
        entry = draft(AuditKind(stored["kind"]), stored["payload"])
        parsed = parse(entry)
        assert type(parsed) is PAYLOADS[entry.kind]
        assert canonical_json(parsed.dump()) == canonical_json(stored["payload"])
        seen.add(entry.kind)
    assert len(seen) >= 15
