"""Service-desk staples: recognised from the message, confirmed (or not) by the live state, governed as the
production targets they are."""

from __future__ import annotations

import pytest

from actiondesk.agents.staples import recognise
from actiondesk.core.finding import FindingKind

PEOPLE = frozenset({"alice", "bob"})


@pytest.mark.parametrize(
    ("text", "kind", "subject"),
    [
        ("my VPN is locked, I can't connect", FindingKind.VPN_LOCKED, "alice"),
        ("please reset bob's vpn session, he is locked out", FindingKind.VPN_LOCKED, "bob"),
        ("I forgot my password", FindingKind.PASSWORD_RESET, "alice"),
        ("can you reset bob's password please", FindingKind.PASSWORD_RESET, "bob"),
        ("reset mallory's password", FindingKind.PASSWORD_RESET, "alice"),  # not a known person: the reporter
        ("the log volume on worker-1 is full", FindingKind.DISK_FULL, "worker-1"),
        ("disk full on WORKER-2, no space left", FindingKind.DISK_FULL, "worker-2"),
        ("the disk is full", FindingKind.DISK_FULL, None),  # which host? triage will ask
    ],
)
def test_recognised(text, kind, subject):
    staple = recognise(text, "alice", PEOPLE)
    assert staple is not None
    assert (staple.kind, staple.subject) == (kind, subject)


@pytest.mark.parametrize(
    "text",
    ["the payment gateway is throwing 500s", "the vpn is great today", "what is my password policy?", "volume up"],
)
def test_not_a_staple(text):
    assert recognise(text, "alice", PEOPLE) is None
