from __future__ import annotations

import pytest

from actiondesk.core.recent import Recent


def test_the_least_recently_set_key_is_forgotten_first() -> None:
    recent: Recent[str, int] = Recent(2)
    recent.put("a", 1)
    recent.put("b", 2)
    assert recent.get("a") == 1  # a read does not make it newer
    recent.put("a", 3)  # setting does
    recent.put("c", 4)
    assert ("a" in recent, "b" in recent, "c" in recent) == (True, False, True)
    assert (recent.get("a"), recent.get("b"), len(recent)) == (3, None, 2)


def test_a_recent_mapping_needs_room() -> None:
    with pytest.raises(ValueError, match="room for one key"):
        Recent(0)


def test_a_forgotten_key_is_gone_and_forgetting_an_absent_one_is_no_error() -> None:
    recent: Recent[str, int] = Recent(2)
    recent.put("a", 1)
    recent.forget("a")
    recent.forget("never set")
    assert ("a" in recent, recent.get("a"), len(recent)) == (False, None, 0)
