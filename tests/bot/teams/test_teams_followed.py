"""What the Teams notifier remembers of each case (the newest entry it read for actions that ran alone) is bounded
however many cases the process sees; a case forgotten is read whole again, and its card is not posted twice."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from actiondesk.bot.teams import notifier
from actiondesk.bot.teams.notifier import Notifier
from actiondesk.core.audit import AuditEntry, AuditKind
from actiondesk.core.audit_payloads import ActedAlone

AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
HOME = {"conversation": {"id": "19:home@thread.tacv2"}, "serviceUrl": "http://127.0.0.1:9/", "channelId": "msteams"}


def acted(case_id: str, seq: int) -> AuditEntry:
    alone = ActedAlone(
        action="restart_service", params={"service": "checkout"}, run_key=f"{case_id}/step-0", status="succeeded"
    )
    return AuditEntry(
        seq=seq,
        kind=AuditKind.ACTED_ALONE,
        case_id=case_id,
        actor="actiondesk",
        at=AT,
        payload=alone.model_dump(mode="json"),
        prev_hash="0" * 64,
        hash="1" * 64,
    )


class Front:
    def __init__(self, entries: list[AuditEntry]) -> None:
        self._entries = entries
        self.reads: list[tuple[str, int]] = []

    def audit(self, case_id: str, after_seq: int = 0) -> list[AuditEntry]:
        self.reads.append((case_id, after_seq))
        return [e for e in self._entries if e.case_id == case_id and e.seq > after_seq]


class Threads:
    def home(self) -> dict[str, Any]:
        return HOME


class Desk:
    """The Teams desk as the notifier's announce step reads it; delivery keys kept as the store keeps them."""

    def __init__(self, front: Front) -> None:
        self.front = front
        self.threads = Threads()
        self.delivered: set[str] = set()

    def channel_for(self, team: str | None) -> str:
        return "19:notify@thread.tacv2"

    def remember(self, key: str) -> bool:
        fresh = key not in self.delivered
        self.delivered.add(key)
        return fresh


class Adapter:
    def __init__(self) -> None:
        self.turns = 0

    async def continue_conversation(self, reference: Any, turn: Any, bot_app_id: str) -> None:
        self.turns += 1


async def test_the_cases_followed_are_bounded_and_a_forgotten_one_is_not_announced_twice(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(notifier, "FOLLOWED_CASES", 2)
    front, adapter = Front([acted(f"C-{n}", 10 + n) for n in (1, 2, 3)]), Adapter()
    announcer = Notifier(Desk(front), adapter, "app")  # type: ignore[arg-type]
    for case_id in ("C-1", "C-2", "C-3", "C-1", "C-3"):
        await announcer._announce(case_id)
    # C-1 was forgotten when C-3 came (two kept): its trail is read whole again, C-3's only past what was read
    assert front.reads == [("C-1", 0), ("C-2", 0), ("C-3", 0), ("C-1", 0), ("C-3", 13)]
    assert adapter.turns == 3  # one card per case: the delivery key kept C-1's from going out twice
