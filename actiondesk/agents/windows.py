"""Time windows governance reads: freezes and chaos days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Window:
    name: str
    start: datetime
    end: datetime
    services: tuple[str, ...] = ()  # empty: the whole estate

    def active(self, at: datetime) -> bool:
        return self.start <= at < self.end

    def covers(self, names: set[str] | frozenset[str]) -> bool:
        """Whether the window applies to any of ``names`` (an empty service list covers the whole estate)."""
        return not self.services or not names.isdisjoint(self.services)
