"""/metrics scrape time against the number of stored cases: the collector reads rollups, so 10k and 100k stored
cases should cost the same. Cases are seeded as rows (bare executemany) and their rollups built by migration
0011's backfill, for speed; the baseline is recomputing the same figures from every stored case, as /metrics
did before the rollups, at the smaller count."""

from __future__ import annotations

import sqlite3
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from actiondesk.adapters.store import SqlStore, make_engine, upgrade
from actiondesk.adapters.store.engine import writing
from actiondesk.adapters.store.rollup import backfill
from actiondesk.bot.reports import metrics
from actiondesk.core.clock import SimulatedClock

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
STATUSES = ("resolved", "escalated", "failed", "open", "acting")


def seed(path: Path, first: int, last: int) -> None:
    """Cases ``first``..``last - 1`` as rows, opened over the 60 days before NOW, of every status."""
    rows = []
    for n in range(first, last):
        at = NOW - timedelta(days=n % 60, seconds=n % 80_000 + 1)  # the same 60 days at any count
        status = STATUSES[n % len(STATUSES)]
        resolved = at + timedelta(minutes=n % 90) if status == "resolved" else None
        stamp = at.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
        done = resolved.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds") if resolved else None
        rows.append(
            (
                f"C-{n}",
                "incident",
                status,
                "stored",
                "a stored case",
                "alice",
                "console",
                "{}",
                None,
                None,
                None,
                0,
                "[]",
                stamp,
                stamp,
                done,
                None,
                None,
                int(n % 7 == 0),
                n % 3,
                100 * (n % 3),
                0.001 * (n % 3),
                1,
            )
        )
    raw = sqlite3.connect(path, isolation_level=None)
    raw.execute("BEGIN IMMEDIATE")
    raw.executemany(
        "INSERT INTO cases (id, kind, status, title, text, reporter, surface, thread, service, finding, plan,"
        " steps_taken, tags, created_at, updated_at, resolved_at, wake_at, watch_until, reopened, llm_calls, tokens,"
        " cost_usd, version) VALUES (" + ", ".join("?" * 23) + ")",
        rows,
    )
    raw.execute("COMMIT")
    raw.close()


def best_ms(runs: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return min(times)


def bench_scrape(counts: tuple[int, ...] = (10_000, 100_000)) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "scrape.db"
        url = f"sqlite:///{path}"
        upgrade(url)
        engine = make_engine(url)
        store = SqlStore(engine)
        clock = SimulatedClock(NOW)
        collector = metrics.DeskCollector(store, clock, 30.0, 0.25)
        have = 0
        first: tuple[int, float] | None = None
        for count in counts:
            seed(path, have, count)
            have = count
            with writing(engine) as connection:
                backfill(connection)
            scrape = best_ms(5, collector.collect)
            samples = sum(len(family.samples) for family in collector.collect())
            if first is None:
                first = (count, scrape)
                recompute = best_ms(2, lambda: metrics.report(store, metrics.EPOCH, NOW + timedelta(seconds=1), 0.0))
                print(
                    f"{f'/metrics scrape, {count:,} cases':<30} {scrape:>12,.2f} {'ms':<10} goal {'ratio ~ 1':<14} "
                    f"{'':<12} ratio {recompute / scrape:>8.1f}x faster than recomputing all-time figures from "
                    f"every case ({recompute:,.0f} ms); {samples} samples"
                )
            else:
                ratio = scrape / first[1]
                print(
                    f"{f'/metrics scrape, {count:,} cases':<30} {scrape:>12,.2f} {'ms':<10} goal {'ratio ~ 1':<14} "
                    f"{'meets goal' if ratio < 1.5 else 'MISSES goal':<12} ratio {ratio:>8.2f}x the scrape at "
                    f"{first[0]:,} cases; {samples} samples"
                )
        engine.dispose()
