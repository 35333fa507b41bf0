"""The memory of a serving process: `actiondesk serve` in a process of its own, its RSS idle and after N signed
Slack DMs (each opens a case) have been worked to a final or waiting state, with the breakdown /proc gives.

    python bench/rss.py [--events 300] [--concurrency 100] [--diagnose] [--trace]

The server and the fake Slack Web API run in processes of their own (bench/serving.py's ``serve`` and ``slack``);
this process sends the load and reads the server's database file, so the server's figures are its own. Printed:
RSS and anonymous memory idle, after the burst has settled, and the growth per open case; the goal is 1,000 open
cases under 300 MiB. With ``--diagnose`` the server also reports, idle and settled, what holds its memory
(bench/heap.py: malloc, pymalloc, SQLite, asyncio tasks, objects by type; ``--trace`` adds tracemalloc's lines,
which cost memory of their own: the RSS of such a run is not the figure).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sqlite3
import tempfile
import time
from pathlib import Path

from aiohttp import ClientSession, TCPConnector
from load import burst
from serving import spawn
from slack_ack import pct

from actiondesk.agents.loop.base import QUEUED
from actiondesk.core.case import CaseStatus

SETTLE_LIMIT = 900.0
REPORTED = 5.0  # seconds for the server to write its report after SIGUSR1


def counts(database: Path) -> tuple[int, int, int, dict[str, int]]:
    """(cases, cases with work to do now, open cases: not in a final state, cases by status), read from the
    server's database."""
    due = ",".join(f"'{s.value}'" for s in QUEUED)
    live = ",".join(f"'{s.value}'" for s in CaseStatus if not s.terminal)
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        (total,) = db.execute("SELECT count(*) FROM cases").fetchone()
        (working,) = db.execute(f"SELECT count(*) FROM cases WHERE status IN ({due})").fetchone()
        (open_,) = db.execute(f"SELECT count(*) FROM cases WHERE status IN ({live})").fetchone()
        statuses = dict(db.execute("SELECT status, count(*) FROM cases GROUP BY status").fetchall())
    return total, working, open_, statuses


async def main(events: int, concurrency: int, diagnose: bool, trace: bool) -> None:
    with tempfile.TemporaryDirectory() as folder:
        database = Path(folder) / "bench.db"  # the file serving.py's `serve` gives the server
        report = Path(folder) / "heap.txt"
        more = ("--diagnose", str(report), *(("--trace",) if trace else ())) if diagnose else ()
        slack = await spawn("slack")
        server = await spawn("serve", "--api", slack.url + "/api/", "--folder", folder, *more)
        try:
            async with ClientSession(connector=TCPConnector(limit=0)) as session:
                await asyncio.sleep(5)  # the start-up's own work (doctor, first jobs) done
                idle = server.memory()
                if diagnose:
                    server.signal(signal.SIGUSR1)
                    await asyncio.sleep(REPORTED)
                started = time.perf_counter()
                acks = await burst(session, server.url, events, concurrency, 0)
                total, working, open_, statuses = 0, 1, 0, {}
                while time.perf_counter() - started < SETTLE_LIMIT:
                    total, working, open_, statuses = await asyncio.to_thread(counts, database)
                    if total >= events and working == 0:
                        break
                    await asyncio.sleep(1)
                settle = time.perf_counter() - started
                await asyncio.sleep(15)  # past the server's next look at its case pool (its trim once work settles)
                busy = server.memory()
                if diagnose:
                    server.signal(signal.SIGUSR1)
                    await asyncio.sleep(REPORTED)
                    shown = report.read_text() if report.exists() else "(no report written)\n"
        finally:
            await server.stop()
            await slack.stop()
    grown = busy["Rss"] - idle["Rss"]
    print(f"actiondesk serve memory, {events} DMs at {concurrency}; load average {os.getloadavg()[0]:.1f}")
    print(f"  acks p99 {pct(acks, 99):.0f} ms; settled in {settle:.0f} s ({working} cases still working)")
    print(f"  idle                 RSS {idle['Rss']:.0f} MiB (anonymous {idle['Anonymous']:.0f} MiB)")
    print(f"  cases by status: {', '.join(f'{k} {v}' for k, v in sorted(statuses.items()))}")
    print(f"  {open_:>4} open cases      RSS {busy['Rss']:.0f} MiB (anonymous {busy['Anonymous']:.0f} MiB)")
    per = grown * 1024 / max(total, 1)
    print(f"  growth               {grown:.0f} MiB, {per:.0f} KiB per case of the burst (goal: 1,000 open < 300 MiB)")
    print(f"  peak                 RSS {busy['Peak']:.0f} MiB")
    if diagnose:
        print("\nwhat holds the server's memory, idle then settled (bench/heap.py):\n" + shown, end="")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--diagnose", action="store_true", help="the server reports what holds its memory")
    parser.add_argument("--trace", action="store_true", help="with --diagnose: tracemalloc too (costs memory)")
    args = parser.parse_args()
    asyncio.run(main(args.events, args.concurrency, args.diagnose, args.trace))
