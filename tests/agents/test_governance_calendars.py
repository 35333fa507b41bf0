"""Freeze and chaos-day calendars (ICS files or URLs): recurring events, exclusions and moved occurrences,
services from CATEGORIES, what depends on a frozen service and what it depends on, refreshes that fail."""

from __future__ import annotations

import http.server
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from actiondesk.agents.governance.calendars import CalendarError, Calendars
from actiondesk.core.errors import ConfigurationError
from actiondesk.core.governance import Outcome
from actiondesk.core.plan import ActionCall

if TYPE_CHECKING:
    from conftest import MakeDesk

FREEZES = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//ActionDesk tests//EN
BEGIN:VEVENT
UID:friday-freeze@test
SUMMARY:Friday deploy freeze
DTSTART:20261106T160000Z
DTEND:20261106T235900Z
RRULE:FREQ=WEEKLY;BYDAY=FR;COUNT=6
EXDATE:20261113T160000Z
CATEGORIES:payment-gateway
END:VEVENT
BEGIN:VEVENT
UID:friday-freeze@test
RECURRENCE-ID:20261120T160000Z
SUMMARY:Friday deploy freeze (moved)
DTSTART:20261120T120000Z
DTEND:20261120T140000Z
CATEGORIES:payment-gateway
END:VEVENT
BEGIN:VEVENT
UID:db-maintenance@test
SUMMARY:orders-db maintenance
DTSTART:20261103T080000Z
DURATION:PT4H
X-ACTIONDESK-SERVICES:orders-db
END:VEVENT
BEGIN:VEVENT
UID:black-friday@test
SUMMARY:Black Friday
DTSTART;VALUE=DATE:20261127
DTEND;VALUE=DATE:20261128
END:VEVENT
END:VCALENDAR
"""

CHAOS = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//ActionDesk tests//EN
BEGIN:VEVENT
UID:chaos@test
SUMMARY:Search chaos day
DTSTART:20261104T080000Z
DTEND:20261104T170000Z
CATEGORIES:search
END:VEVENT
END:VCALENDAR
"""


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def rollback(service: str) -> ActionCall:
    return ActionCall(action="rollback_deployment", params={"service": service, "to_version": "v0.0.1"})


@pytest.fixture
def calendars(tmp_path: Path) -> tuple[Path, Path]:
    freezes, chaos = tmp_path / "freezes.ics", tmp_path / "chaos.ics"
    freezes.write_text(FREEZES)
    chaos.write_text(CHAOS)
    return freezes, chaos


@pytest.mark.parametrize(
    ("service", "when", "outcome", "group"),
    [
        ("payment-gateway", "2026-11-06T17:00:00", Outcome.APPROVE, "cab"),  # first Friday
        ("payment-gateway", "2026-11-06T15:59:00", Outcome.APPROVE, "sre"),  # before it starts
        ("payment-gateway", "2026-11-13T17:00:00", Outcome.APPROVE, "sre"),  # EXDATE: no freeze that Friday
        ("payment-gateway", "2026-11-20T17:00:00", Outcome.APPROVE, "sre"),  # moved to 12:00-14:00 that day
        ("payment-gateway", "2026-11-20T13:00:00", Outcome.APPROVE, "cab"),
        ("payment-gateway", "2026-12-04T17:00:00", Outcome.APPROVE, "cab"),  # the rule goes on
        ("checkout", "2026-11-06T17:00:00", Outcome.APPROVE, "cab"),  # checkout depends on payment-gateway
        ("orders-db", "2026-11-06T17:00:00", Outcome.APPROVE, "cab"),  # payment-gateway depends on orders-db
        ("payment-gateway", "2026-11-03T09:00:00", Outcome.APPROVE, "cab"),  # orders-db maintenance (DURATION)
        ("payment-gateway", "2026-11-03T12:30:00", Outcome.APPROVE, "sre"),
        ("search", "2026-11-27T10:00:00", Outcome.ALLOW, None),  # Black Friday: production only
        ("checkout", "2026-11-27T10:00:00", Outcome.APPROVE, "cab"),  # an all-day event, whole estate
        ("search", "2026-11-04T10:00:00", Outcome.SUGGEST, None),  # search's chaos day
        ("search", "2026-11-04T17:30:00", Outcome.ALLOW, None),
    ],
)
def test_calendar_windows_decide(
    make_desk: MakeDesk, calendars: tuple[Path, Path], service: str, when: str, outcome: Outcome, group: str | None
) -> None:
    freezes, chaos = calendars
    desk = make_desk(freeze_calendars=str(freezes), chaos_calendars=f"file://{chaos}")
    decision = desk.runtime.governance.decide(rollback(service), at(when))
    assert (decision.outcome, decision.approver_group) == (outcome, group)
    if group == "cab":
        assert any(p.startswith("freeze[") for p in decision.policy_ids)


def test_a_calendar_served_over_http(make_desk: MakeDesk) -> None:
    body = FREEZES.encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/calendar")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/freezes.ics"
        desk = make_desk(freeze_calendars=url)
        decision = desk.runtime.governance.decide(rollback("payment-gateway"), at("2026-11-06T17:00:00"))
        assert decision.approver_group == "cab"
    finally:
        server.shutdown()


def test_an_unreadable_calendar_stops_the_start(make_desk: MakeDesk, tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"missing\.ics"):
        make_desk(freeze_calendars=str(tmp_path / "missing.ics"))
    broken = tmp_path / "broken.ics"
    broken.write_text("BEGIN:VCALENDAR\nthis is not ics\n")
    with pytest.raises(CalendarError, match=r"broken\.ics"):
        make_desk(freeze_calendars=str(broken))


def test_a_refresh_that_fails_keeps_the_last_windows(calendars: tuple[Path, Path]) -> None:
    freezes, _ = calendars
    cal = Calendars([str(freezes)])
    cal.load(at("2026-11-02T09:00:00"))
    assert len(cal.windows()[0]) > 3
    freezes.write_text("garbage")
    assert cal.refresh(at("2026-11-02T09:05:00")) == 0
    assert str(freezes) in cal.errors
    assert len(cal.windows()[0]) > 3, "the last good copy stays in force"
    freezes.write_text(FREEZES.replace("Black Friday", "Cyber Monday"))
    assert cal.refresh(at("2026-11-02T09:10:00")) == 1
    assert cal.errors == {}
    assert any(w.name == "Cyber Monday" for w in cal.windows(at("2026-11-27T10:00:00"))[0])
