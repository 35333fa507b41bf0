"""How a post-mortem says things: durations as people say them, a call's parameters in one line."""

from __future__ import annotations

from pydantic import JsonValue


def took(seconds: float | None) -> str:
    """A duration as people say it: 45 s, 4 min 10 s, 2 h 5 min."""
    if seconds is None:
        return "-"
    whole = round(seconds)
    if whole < 90:
        return f"{whole} s"
    minutes, secs = divmod(whole, 60)
    if minutes < 90:
        return f"{minutes} min" + (f" {secs} s" if secs else "")
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h" + (f" {minutes} min" if minutes else "")


def params_text(params: JsonValue) -> str:
    if not isinstance(params, dict):
        return ""
    return ", ".join(f"{k}={v}" for k, v in params.items())
