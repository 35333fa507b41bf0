"""What triage calls trouble now: an episode that is over is not an onset, and a change someone has already
undone is not proposed for undoing again — the case watches the signals come back instead."""

from __future__ import annotations

from typing import TYPE_CHECKING

from actiondesk.adapters.sandbox import FaultEvent
from actiondesk.core.case import CaseStatus
from actiondesk.core.finding import FindingKind

if TYPE_CHECKING:
    from conftest import Desk


def test_an_episode_that_is_over_is_not_an_onset(desk: Desk) -> None:
    desk.deploy("payment-gateway", "v2.5.0", "9f3c2ab")
    desk.wait(60)
    desk.estate.apply(FaultEvent(service="payment-gateway", kind="error_rate", value=0.35, duration=120))
    desk.wait(300)  # the errors stopped three minutes ago
    case = desk.report()

    assert case.status is CaseStatus.WATCHING
    assert case.finding is not None
    assert case.finding.kind is FindingKind.NO_ANOMALY
    assert case.finding.culprit is None
    assert desk.store.approvals(case.id) == []


def test_a_change_already_undone_is_not_undone_again(desk: Desk) -> None:
    desk.bad_deploy()
    desk.deploy("payment-gateway", "v2.4.1", "c7d19e4")  # someone rolled it forward to the good build by hand
    case = desk.report()

    assert case.status is CaseStatus.WATCHING, case.finding.summary if case.finding else None
    assert case.finding is not None
    assert case.finding.culprit is None
    assert "payment-gateway v2.4.1 (c7d19e4) undid it" in case.finding.summary
    assert desk.store.approvals(case.id) == []
