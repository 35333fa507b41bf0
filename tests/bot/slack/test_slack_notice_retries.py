"""A Slack notice whose post fails is tried again a bounded number of times, holding only its case id and entry
seq while it waits; then it is given up with an error logged, and nothing is left waiting. What the follower
remembers of each case (the newest entry it read) is bounded too, however many cases the process sees."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp import ClientConnectionError

from actiondesk.bot.slack import notices
from actiondesk.bot.slack.notices import ATTEMPTS, Notices
from actiondesk.core.audit import AuditEntry, AuditKind
from actiondesk.core.audit_payloads import ActedAlone
from actiondesk.core.case import Case, CaseKind

AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
CHANNEL = "C0NOTIFY"


class Front:
    """The front desk as Notices reads it: one case and its trail, counting the reads."""

    directory: Any = None
    owners: Any = None

    def __init__(self, case: Case, entries: list[AuditEntry]) -> None:
        self._case = case
        self._entries = entries
        self.case_reads = 0

    def case(self, case_id: str) -> Case:
        assert case_id == self._case.id
        self.case_reads += 1
        return self._case

    def audit(self, case_id: str, after_seq: int = 0) -> list[AuditEntry]:
        return [e for e in self._entries if e.case_id == case_id and e.seq > after_seq]


class Slack:
    """chat.postMessage cannot reach Slack ``failures`` times, then ok; every call is counted."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.posts: list[dict[str, Any]] = []
        self.called = asyncio.Event()

    async def chat_postMessage(self, **args: Any) -> dict[str, Any]:
        self.posts.append(args)
        self.called.set()
        if len(self.posts) <= self.failures:
            raise ClientConnectionError("slack.com unreachable")
        return {"ok": True, "ts": "1.1"}


def acted_alone() -> tuple[Case, AuditEntry]:
    case = Case(
        id="C-1", kind=CaseKind.INCIDENT, title="checkout 500s", text="t", reporter="bob", created_at=AT, updated_at=AT
    )
    alone = ActedAlone(
        action="restart_service", params={"service": "checkout"}, run_key="C-1/step-0", status="succeeded", level=3
    )
    entry = AuditEntry(
        seq=7,
        kind=AuditKind.ACTED_ALONE,
        case_id=case.id,
        actor="actiondesk",
        at=AT,
        payload=alone.model_dump(mode="json"),
        prev_hash="0" * 64,
        hash="1" * 64,
    )
    return case, entry


async def posts_until(slack: Slack, count: int) -> None:
    while len(slack.posts) < count:
        slack.called.clear()
        await asyncio.wait_for(slack.called.wait(), 10)


async def test_a_failing_notice_is_given_up_after_its_attempts_and_logged(caplog: pytest.LogCaptureFixture):
    case, entry = acted_alone()
    front, slack = Front(case, [entry]), Slack(failures=ATTEMPTS + 5)
    notified = Notices(front, slack, channel=CHANNEL, remember=lambda _key: True, retry_seconds=0.0)  # type: ignore[arg-type]
    with caplog.at_level(logging.WARNING, logger=notices.__name__):
        await notified.sync(case.id)
        await posts_until(slack, ATTEMPTS)
        for _ in range(20):  # a retry that would come next is scheduled at once (0 s): give the loop its turns
            await asyncio.sleep(0)
    assert len(slack.posts) == ATTEMPTS, "tried exactly ATTEMPTS times, then no more"
    assert notified.waiting == 0
    given_up = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(given_up) == 1
    assert "C-1" in given_up[0].getMessage()
    assert f"after {ATTEMPTS} attempts" in given_up[0].getMessage()
    assert front.case_reads == ATTEMPTS, "each retry reads the case again: nothing of it is held while waiting"


async def test_a_notice_that_goes_through_on_a_retry_is_posted_once_and_not_given_up(
    caplog: pytest.LogCaptureFixture,
):
    case, entry = acted_alone()
    front, slack = Front(case, [entry]), Slack(failures=2)
    notified = Notices(front, slack, channel=CHANNEL, remember=lambda _key: True, retry_seconds=0.0)  # type: ignore[arg-type]
    with caplog.at_level(logging.WARNING, logger=notices.__name__):
        await notified.sync(case.id)
        await posts_until(slack, 3)
        for _ in range(20):
            await asyncio.sleep(0)
    assert len(slack.posts) == 3
    assert slack.posts[-1]["channel"] == CHANNEL
    assert notified.waiting == 0
    assert not [r for r in caplog.records if r.levelno == logging.ERROR]


async def test_past_the_pending_limit_a_failed_notice_is_given_up_at_once(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(notices, "PENDING_LIMIT", 0)
    case, entry = acted_alone()
    front, slack = Front(case, [entry]), Slack(failures=1)
    notified = Notices(front, slack, channel=CHANNEL, remember=lambda _key: True, retry_seconds=0.0)  # type: ignore[arg-type]
    with caplog.at_level(logging.WARNING, logger=notices.__name__):
        await notified.sync(case.id)
        for _ in range(20):
            await asyncio.sleep(0)
    assert len(slack.posts) == 1
    assert notified.waiting == 0
    (given_up,) = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert "0 notices already waiting" in given_up.getMessage()


async def test_close_forgets_the_notices_waiting_to_be_tried_again():
    case, entry = acted_alone()
    front, slack = Front(case, [entry]), Slack(failures=1)
    notified = Notices(front, slack, channel=CHANNEL, remember=lambda _key: True)  # type: ignore[arg-type]
    await notified.sync(case.id)
    assert notified.waiting == 1  # its next try is 30 s away
    notified.close()
    assert notified.waiting == 0


class Trails:
    """The front desk with several cases, each with its trail; every read of a trail is noted (case, after)."""

    directory: Any = None
    owners: Any = None

    def __init__(self, entries: list[AuditEntry]) -> None:
        self._entries = entries
        self.reads: list[tuple[str, int]] = []

    def case(self, case_id: str) -> Case:
        return Case(
            id=case_id, kind=CaseKind.INCIDENT, title="t", text="t", reporter="bob", created_at=AT, updated_at=AT
        )

    def audit(self, case_id: str, after_seq: int = 0) -> list[AuditEntry]:
        self.reads.append((case_id, after_seq))
        return [e for e in self._entries if e.case_id == case_id and e.seq > after_seq]


async def test_the_cases_followed_are_bounded_and_a_forgotten_one_is_not_posted_twice(
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.setattr(notices, "FOLLOWED_CASES", 2)
    _, entry = acted_alone()
    entries = [entry.model_copy(update={"case_id": f"C-{n}", "seq": 10 + n}) for n in (1, 2, 3)]
    front, slack = Trails(entries), Slack(failures=0)
    delivered: set[str] = set()

    def remember(key: str) -> bool:  # the store's delivery keys: True the first time only
        fresh = key not in delivered
        delivered.add(key)
        return fresh

    notified = Notices(front, slack, channel=CHANNEL, remember=remember)  # type: ignore[arg-type]
    for case_id in ("C-1", "C-2", "C-3", "C-1", "C-3"):
        await notified.sync(case_id)
    # C-1 was forgotten when C-3 came (two kept): its trail is read whole again, C-3's only past what was read
    assert front.reads == [("C-1", 0), ("C-2", 0), ("C-3", 0), ("C-1", 0), ("C-3", 13)]
    assert len(slack.posts) == 3  # one per case: the delivery key kept C-1's from going out twice
