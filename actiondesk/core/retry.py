"""Reading an HTTP Retry-After header, the same for every outside system."""

from __future__ import annotations

from email.utils import parsedate_to_datetime


def retry_after_seconds(value: str | None, now: float) -> float | None:
    """Seconds to wait from a Retry-After value (delay-seconds or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - now)
    except (TypeError, ValueError):
        return None
