"""Audit rows written before a field existed still read as words everywhere they are shown: the ticket notes,
the post-mortem's timeline (attached to tickets), the terminal and chat timeline, the Slack and Teams notices
and the console's owner panel. A missing value is said ("unknown", "an unnamed action") or its clause is left
out; it never shows as "None", and never as a blank between two spaces."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest
from pydantic import JsonValue

from actiondesk.adapters.sandbox import SandboxEstate, default_estate
from actiondesk.agents.mirror import TicketMirror
from actiondesk.agents.postmortem.timeline import timeline_of
from actiondesk.bot.console.views import owner_view
from actiondesk.bot.reports.text import describe
from actiondesk.bot.slack.notices import acted_alone_blocks, acted_alone_text, hand_off_text
from actiondesk.bot.teams.cards import acted_alone_card
from actiondesk.core.audit import AuditDraft, AuditEntry, AuditKind
from actiondesk.core.audit_payloads import PAYLOADS, ActedAlone, HandedOff
from actiondesk.core.case import Case, CaseKind
from actiondesk.core.clock import SystemClock
from actiondesk.core.tickets import UpdateKind

AT = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
BLANK = re.compile(r"\S  +\S|\(\s*\)|:\s*$| : ")  # two spaces inside a line, "()" or ": " with nothing after


def _draft(kind: AuditKind, **payload: JsonValue) -> AuditDraft:
    return AuditDraft(kind=kind, case_id="C-1", actor="actiondesk", at=AT, payload=payload)


def _entry(kind: AuditKind, seq: int = 1, payload: dict[str, JsonValue] | None = None) -> AuditEntry:
    return AuditEntry(
        seq=seq, kind=kind, case_id="C-1", actor="actiondesk", at=AT, payload=payload or {}, prev_hash="0", hash="1"
    )


def _reads_naturally(text: str) -> None:
    assert "None" not in text, text
    assert not BLANK.search(text), text


def test_ticket_notes_of_old_decision_and_approval_rows_say_what_is_missing() -> None:
    mirror = TicketMirror(["servicenow"], "actiondesk", frozenset({"cab"}))
    (note,) = mirror.updates(
        [
            _draft(AuditKind.DECISION, step=1, policy_ids=[]),  # before outcome and action were recorded
            _draft(AuditKind.APPROVAL, reason="looks right"),  # before approval_id, status and by
            _draft(AuditKind.FINDING, summary="checkout errors"),  # before kind and confidence
        ]
    )
    assert note.kind is UpdateKind.NOTE
    lines = note.text.splitlines()
    assert lines == [
        "Governance: unknown outcome for an unnamed action (policies: none)",
        "An approval decided: looks right",
        "Finding (unknown kind, confidence unknown)",
    ]
    for line in lines:
        _reads_naturally(line)


def test_a_complete_rows_ticket_notes_are_unchanged() -> None:
    mirror = TicketMirror(["servicenow"], "actiondesk", frozenset({"cab"}))
    (note,) = mirror.updates(
        [
            _draft(AuditKind.DECISION, step=1, action="restart_service", outcome="allow", policy_ids=["p1"]),
            _draft(AuditKind.APPROVAL, approval_id="A-1", status="approved", by="bob"),
        ]
    )
    assert note.text.splitlines() == [
        "Governance: allow for restart_service (policies: p1)",
        "Approval A-1 approved by bob",
    ]


def test_a_cab_change_of_an_old_approval_row_has_a_title_without_none() -> None:
    mirror = TicketMirror(["servicenow"], "actiondesk", frozenset({"cab"}))
    (change,) = mirror.updates([_draft(AuditKind.APPROVAL_REQUESTED, id="A-9", group="cab")])
    assert change.kind is UpdateKind.CHANGE
    assert change.change is not None
    assert change.change.title == "an unnamed action"
    _reads_naturally(change.text)


def test_the_post_mortem_timeline_of_old_rows_reads_naturally() -> None:
    case = Case(id="C-1", kind=CaseKind.INCIDENT, title="t", text="t", reporter="alice", created_at=AT, updated_at=AT)
    facts = [
        _draft(AuditKind.CASE_OPENED, title="checkout is down"),
        _draft(AuditKind.DECISION, step=1),
        _draft(AuditKind.APPROVAL_REQUESTED, id="A-1"),
        _draft(AuditKind.APPROVAL),
        _draft(AuditKind.ACTION_STARTED, params={}),
        _draft(AuditKind.ACTION_RESULT),
        _draft(AuditKind.CASE_ESCALATED),
        _draft(AuditKind.HANDED_OFF),
        _draft(AuditKind.PICKED_UP),
        _draft(AuditKind.PAGE),
    ]
    moments = timeline_of(case, facts, None, "actiondesk")
    assert len(moments) == len(facts)
    said = [m.what for m in moments]
    assert said[0] == "case opened: “checkout is down”"
    assert said[2] == "approval A-1 asked of an unknown group for an unnamed action"
    assert said[6] == "handed to people"
    for text in said:
        assert "None" not in text, text
        assert "  " not in text, text


@pytest.mark.parametrize("kind", sorted(PAYLOADS, key=lambda k: k.value), ids=lambda k: k.value)
def test_every_kinds_timeline_line_of_an_empty_row_has_no_none(kind: AuditKind) -> None:
    line = describe(_entry(kind))
    assert "None" not in line, line


def test_the_timeline_line_of_a_kind_with_no_special_words_reads_its_model() -> None:
    opened = _entry(
        AuditKind.CASE_OPENED,
        payload={"kind": "incident", "title": "checkout 5xx", "surface": "slack", "reporter": "alice"},
    )
    assert describe(opened) == "incident from alice on slack: checkout 5xx"
    stopped = _entry(AuditKind.CASE_FAILED, payload={"reason": "verification timed out", "step": 2})
    assert describe(stopped) == "verification timed out at step 2"
    change = _entry(
        AuditKind.CHANGE_RECORDED,
        payload={"change": "chg-1", "service": "search", "kind": "deploy", "source": "api"},
    )
    assert describe(change) == "deploy of search from api (chg-1)"


def test_slack_notices_of_old_rows_read_naturally() -> None:
    clock = SystemClock()
    directory = SandboxEstate(default_estate(clock.now()), clock)
    old = ActedAlone(action="restart_service", run_key="run-1", status="succeeded")  # no level, team, confidence
    text = acted_alone_text(old, "C-1")
    assert text == "ActionDesk ran `restart_service` on its own (level unknown) for case C-1. Result: succeeded."
    blocks = acted_alone_blocks(old, "C-1")
    assert "None" not in json.dumps(blocks)
    handed = hand_off_text(HandedOff(reason="no one answered"), directory)
    assert handed == ":sos: Handed to on-call: nobody. Why: no one answered"
    _reads_naturally(hand_off_text(HandedOff(), directory))


def test_a_teams_card_of_an_old_acted_alone_row_has_no_none_and_no_roll_back_without_a_run() -> None:
    card = acted_alone_card(ActedAlone(), "C-1")
    shown = json.dumps(card)
    assert "None" not in shown
    assert "ActionDesk ran an action on its own" in shown
    assert "actions" not in card, "no run key, nothing to roll back"


def test_the_console_owner_panel_of_an_old_hand_off_row() -> None:
    view = owner_view([_entry(AuditKind.HANDED_OFF, seq=1), _entry(AuditKind.PICKED_UP, seq=2)])
    assert view is not None
    assert view["people"] == []
    assert view["paged"] == []
    assert view["team"] is None
    assert view["reason"] is None
    assert view["picked_up_by"] is None
    assert view["picked_up_at"] == AT.isoformat()
