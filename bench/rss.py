"""The memory of a serving process: `actiondesk serve` in a process of its own, its RSS idle and after N signed
Slack DMs (each opens a case) have been worked to a final or waiting state, with the breakdown /proc gives.

    python bench/rss.py [--events 300] [--concurrency 100]

The load client and the fake Slack Web API (bench/slack_ack.py's) run in this process, so the server's figures
are its own. Printed: RSS and anonymous memory idle, after the burst has settled, and the growth per open case;
the goal is 1,000 open cases under 300 MiB.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from aiohttp import ClientSession, TCPConnector
from slack_ack import SECRET, fake_slack, pct, serve
from slack_sdk.signature import SignatureVerifier

from actiondesk.agents.loop.base import QUEUED
from actiondesk.core.case import CaseStatus

READY = re.compile(r"ActionDesk serving on (http://[^\s\"]+)")
SETTLE_LIMIT = 900.0


def memory(pid: int) -> dict[str, int]:
    """MiB by /proc/PID/smaps_rollup: Rss, Anonymous (the heap: Python objects, malloc arenas, SQLite caches)."""
    found = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value = line.split(":", 1)
        found[name] = int(value.split()[0]) // 1024
    return {name: found[name] for name in ("Rss", "Anonymous")}


def signed_dm(n: int) -> tuple[bytes, dict[str, str]]:
    event = {"type": "message", "channel": f"D{n}", "channel_type": "im", "user": "U0BOB", "ts": f"{n}.0"}
    event["text"] = f"checkout is throwing 500s for customers (report {n})"
    body = json.dumps({"type": "event_callback", "team_id": "T1", "event_id": f"EvRss{n}", "event": event})
    ts = str(int(time.time()))
    signature = SignatureVerifier(SECRET).generate_signature(timestamp=ts, body=body)
    headers = {"Content-Type": "application/json", "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature}
    return body.encode(), headers


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


async def main(events: int, concurrency: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        slack_runner, slack_url = await serve(fake_slack())
        database = Path(folder) / "rss.db"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ACTIONDESK_", "OTEL_", "SLACK_"))}
        env |= {"DATABASE_URL": f"sqlite:///{database}", "SLACK_BOT_TOKEN": "xoxb-bench"}
        env |= {"SLACK_SIGNING_SECRET": SECRET, "ACTIONDESK_SLACK_API_URL": slack_url + "/api/"}
        server = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "actiondesk", "serve", "--host", "127.0.0.1", "--port", "0",
            env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        assert server.stdout is not None
        url = ""
        while not url:
            line = (await server.stdout.readline()).decode()
            if not line:
                raise SystemExit("actiondesk serve stopped before it listened")
            if match := READY.search(line):
                url = match.group(1)
        draining = asyncio.ensure_future(server.stdout.read())  # keep the pipe empty for the server's whole life
        try:
            async with ClientSession(connector=TCPConnector(limit=0)) as session:
                await asyncio.sleep(5)  # the start-up's own work (doctor, first jobs) done
                idle = memory(server.pid)
                gate = asyncio.Semaphore(concurrency)

                async def one(n: int) -> float:
                    body, headers = signed_dm(n)
                    async with gate:
                        started = time.perf_counter()
                        async with session.post(url + "/slack/events", data=body, headers=headers) as response:
                            await response.read()
                            assert response.status == 200, response.status
                        return (time.perf_counter() - started) * 1000

                started = time.perf_counter()
                acks = await asyncio.gather(*(one(n) for n in range(events)))
                total, working, open_, statuses = 0, 1, 0, {}
                while time.perf_counter() - started < SETTLE_LIMIT:
                    total, working, open_, statuses = await asyncio.to_thread(counts, database)
                    if total >= events and working == 0:
                        break
                    await asyncio.sleep(1)
                settle = time.perf_counter() - started
                await asyncio.sleep(15)  # past the server's next look at its case pool (its trim once work settles)
                busy = memory(server.pid)
        finally:
            server.terminate()
            await server.wait()
            await draining
            await slack_runner.cleanup()
    grown = busy["Rss"] - idle["Rss"]
    print(f"actiondesk serve memory, {events} DMs at {concurrency}; load average {os.getloadavg()[0]:.1f}")
    print(f"  acks p99 {pct(acks, 99):.0f} ms; settled in {settle:.0f} s ({working} cases still working)")
    print(f"  idle                 RSS {idle['Rss']} MiB (anonymous {idle['Anonymous']} MiB)")
    print(f"  cases by status: {', '.join(f'{k} {v}' for k, v in sorted(statuses.items()))}")
    print(f"  {open_:>4} open cases      RSS {busy['Rss']} MiB (anonymous {busy['Anonymous']} MiB)")
    per = grown * 1024 / max(total, 1)
    print(f"  growth               {grown} MiB, {per:.0f} KiB per case of the burst (goal: 1,000 open < 300 MiB)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=100)
    args = parser.parse_args()
    asyncio.run(main(args.events, args.concurrency))
