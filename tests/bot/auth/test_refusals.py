"""Refused requests are audited, but nobody can grow the trail without bound: one entry per client per window
(with the count of the refusals in between), and a cap per window for all clients together."""

from __future__ import annotations

from actiondesk.bot.auth.refusals import RefusalLog
from actiondesk.core.audit import AuditKind
from actiondesk.core.clock import SystemClock


class Tick:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_a_burst_from_one_client_is_one_entry_and_the_next_says_how_many_were_suppressed(store):
    tick = Tick()
    log = RefusalLog(store, SystemClock(), window_seconds=60, per_window=100, monotonic=tick)
    for _ in range(1000):
        await log.note("198.51.100.7", "anonymous", "POST", "/api/cases", 401, "no credentials")
    tick.now = 61
    await log.note("198.51.100.7", "anonymous", "POST", "/api/cases", 401, "no credentials")
    entries = [e for e in store.audit() if e.kind is AuditKind.ACCESS_REFUSED]
    assert [e.payload["suppressed"] for e in entries] == [0, 999]
    assert entries[0].payload["client"] == "198.51.100.7"


async def test_a_spray_from_many_clients_is_capped_per_window(store):
    tick = Tick()
    log = RefusalLog(store, SystemClock(), window_seconds=60, per_window=25, monotonic=tick)
    for n in range(500):
        await log.note(f"203.0.113.{n % 250}/{n}", "anonymous", "GET", "/api/cases", 401, "no credentials")
    assert log.written == 25
    tick.now = 60
    await log.note("192.0.2.1", "anonymous", "GET", "/api/cases", 401, "no credentials")
    assert log.written == 26  # a new window writes again


async def test_a_long_path_is_cut_and_the_entry_names_no_secret(store):
    log = RefusalLog(store, SystemClock())
    await log.note("192.0.2.9", "anonymous", "POST", "/api/" + "x" * 5000, 401, "the API token is unknown")
    (entry,) = [e for e in store.audit() if e.kind is AuditKind.ACCESS_REFUSED]
    assert len(str(entry.payload["path"])) == 200
