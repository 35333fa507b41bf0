from __future__ import annotations

from email.utils import formatdate

from actiondesk.core.retry import retry_after_seconds


def test_delay_seconds_and_http_dates():
    now = 1_800_000_000.0
    assert retry_after_seconds("7", now) == 7.0
    assert retry_after_seconds(formatdate(now + 30, usegmt=True), now) == 30.0
    assert retry_after_seconds(formatdate(now - 30, usegmt=True), now) == 0.0  # a date in the past: go now


def test_absent_or_unreadable_values_give_none():
    assert retry_after_seconds(None, 0.0) is None
    assert retry_after_seconds("", 0.0) is None
    assert retry_after_seconds("soon", 0.0) is None
