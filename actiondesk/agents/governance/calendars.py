"""Freeze and chaos-day calendars: ICS files or URLs, recurring events and their exceptions included.

Each VEVENT is a window from DTSTART to DTEND (or DTSTART + DURATION; an all-day event covers whole UTC days).
The services it covers come from its CATEGORIES (or ``X-ACTIONDESK-SERVICES``), comma-separated; none means the
whole estate. Recurrences (RRULE, RDATE), exclusions (EXDATE) and moved occurrences (RECURRENCE-ID) are
expanded by ``recurring-ical-events``.

Parsed calendars are kept; windows are expanded for a range around the time asked about. ``refresh()`` (run by
the scheduler) re-reads every source; a source that cannot be read keeps its previous windows and the error
is logged and kept in ``errors``. At start-up an unreadable source is a configuration error.
"""

from __future__ import annotations

import logging
import threading
import urllib.request
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import icalendar
import recurring_ical_events

from actiondesk.agents.windows import Window
from actiondesk.core.errors import ConfigurationError

log = logging.getLogger(__name__)

FETCH_TIMEOUT_SECONDS = 10.0
MAX_BYTES = 5 * 1024 * 1024
BEFORE = timedelta(days=7)
AFTER = timedelta(days=60)


class CalendarError(ConfigurationError):
    """Raised when a calendar source cannot be read or parsed."""


def sources(text: str | Sequence[str] | None) -> tuple[str, ...]:
    """``a.ics, https://host/b.ics`` -> ("a.ics", "https://host/b.ics")."""
    if not text:
        return ()
    items = text.split(",") if isinstance(text, str) else list(text)
    return tuple(s.strip() for s in items if s and s.strip())


def read_source(source: str) -> bytes:
    if source.startswith(("http://", "https://")):
        request = urllib.request.Request(source, headers={"User-Agent": "actiondesk-calendar"})  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT_SECONDS) as response:  # noqa: S310
                data: bytes = response.read(MAX_BYTES + 1)
        except OSError as exc:
            raise CalendarError(f"calendar {source}: cannot fetch: {exc}") from None
    else:
        path = Path(source.removeprefix("file://"))
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CalendarError(f"calendar {source}: cannot read: {exc.strerror or exc}") from None
    if len(data) > MAX_BYTES:
        raise CalendarError(f"calendar {source}: larger than {MAX_BYTES} bytes")
    return data


def parse(source: str, data: bytes) -> icalendar.Calendar:
    try:
        calendar = icalendar.Calendar.from_ical(data)
    except (ValueError, IndexError, KeyError) as exc:
        raise CalendarError(f"calendar {source}: not a valid ICS file: {exc}") from None
    if not isinstance(calendar, icalendar.Calendar):  # pragma: no cover - from_ical returns a list for several
        raise CalendarError(f"calendar {source}: expected one VCALENDAR")
    return calendar


def _utc(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(0), tzinfo=UTC)
    raise CalendarError(f"not a date or time: {value!r}")


def _services(event: Any) -> tuple[str, ...]:
    raw = event.get("X-ACTIONDESK-SERVICES")
    names: list[str] = []
    if raw is not None:
        names = [str(raw)]
    else:
        categories = event.get("CATEGORIES")
        for item in categories if isinstance(categories, list) else [categories] if categories else []:
            names.extend(str(c) for c in getattr(item, "cats", [item]))
    return tuple(sorted({n.strip() for text in names for n in str(text).split(",") if n.strip()}))


def expand(calendar: icalendar.Calendar, start: datetime, end: datetime, *, prefix: str = "") -> list[Window]:
    """The calendar's event occurrences overlapping [start, end) as windows, earliest first."""
    out: list[Window] = []
    for event in recurring_ical_events.of(calendar).between(start, end):
        begin = _utc(event.decoded("DTSTART"))
        if "DTEND" in event:
            finish = _utc(event.decoded("DTEND"))
        elif "DURATION" in event:
            finish = begin + event.decoded("DURATION")
        else:
            finish = begin + timedelta(days=1) if not isinstance(event.decoded("DTSTART"), datetime) else begin
        if finish <= begin:
            continue
        name = str(event.get("SUMMARY") or "freeze").strip() or "freeze"
        out.append(Window(f"{prefix}{name}", begin, finish, _services(event)))
    return sorted(out, key=lambda w: (w.start, w.name))


class Calendars:
    """Freeze and chaos-day windows from ICS sources, kept in memory and re-read by ``refresh()``."""

    def __init__(self, freeze_sources: Sequence[str] = (), chaos_sources: Sequence[str] = ()) -> None:
        self.freeze_sources = tuple(freeze_sources)
        self.chaos_sources = tuple(chaos_sources)
        self._parsed: dict[str, icalendar.Calendar] = {}
        self._lock = threading.Lock()
        self._range: tuple[datetime, datetime] | None = None
        self._windows: tuple[tuple[Window, ...], tuple[Window, ...]] = ((), ())
        self.errors: dict[str, str] = {}

    @property
    def configured(self) -> bool:
        return bool(self.freeze_sources or self.chaos_sources)

    def load(self, now: datetime) -> None:
        """Read every source now; raise CalendarError for the first that cannot be read (start-up)."""
        for source in (*self.freeze_sources, *self.chaos_sources):
            self._parsed[source] = parse(source, read_source(source))
        self._expand(now)

    def refresh(self, now: datetime) -> int:
        """Re-read every source; keep the old copy of any that fails. Returns how many were read."""
        read = 0
        for source in (*self.freeze_sources, *self.chaos_sources):
            try:
                calendar = parse(source, read_source(source))
            except CalendarError as exc:
                if self.errors.get(source) != str(exc):
                    log.error("%s; keeping its previous windows", exc)
                self.errors[source] = str(exc)
                continue
            self.errors.pop(source, None)
            with self._lock:
                self._parsed[source] = calendar
            read += 1
        self._expand(now)
        return read

    def _expand(self, around: datetime) -> None:
        start, end = around - BEFORE, around + AFTER
        with self._lock:
            parsed = self._parsed
            freezes = [w for s in self.freeze_sources if s in parsed for w in expand(parsed[s], start, end)]
            chaos = [w for s in self.chaos_sources if s in parsed for w in expand(parsed[s], start, end)]
            self._windows = (tuple(freezes), tuple(chaos))
            self._range = (start, end)

    def windows(self, at: datetime | None = None) -> tuple[tuple[Window, ...], tuple[Window, ...]]:
        """(freezes, chaos days) expanded around ``at`` (default: the range of the last refresh)."""
        if not self.configured:
            return (), ()
        if at is not None and (self._range is None or not self._range[0] <= at < self._range[1] - BEFORE):
            self._expand(at)
        return self._windows
