"""ActionDesk under load, on loopback, every figure beside a baseline measured in the same run.

    python bench/load.py [--events 2000] [--concurrency 100] [--creations 1000] [--stored 10000,100000]

1. A burst of signed Slack DMs (each opens a case) at N concurrent: ack p50 / p99 against a bare Bolt app
   (bench/slack_ack.py's) under the same burst; `/healthz` and an approval click (a signed button click) p99
   while the burst and its cases are being worked, against the same probes on the idle server; and the time
   until every case of the burst is in a final or waiting state (no work left to do now).
2. RSS of the process with the burst's cases stored and open, beside its RSS idle before the burst.
3. Console case creations (POST /api/cases) at 50 concurrent: p50 / p99 and rate, beside `GET /healthz` at the
   same concurrency on the same server (the HTTP stack's own floor).
4. `/metrics` scrape time with 10k and 100k stored cases: the ratio should be about 1.

Client and server share one process and event loop (as in bench/slack_ack.py); so do the baselines.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiohttp import ClientSession, TCPConnector
from slack_ack import SECRET, actiondesk, bare_bolt, fake_slack, fire, pct, serve
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import func, select

from actiondesk.adapters.store.tables import cases as cases_table
from actiondesk.agents.loop import QUEUED
from actiondesk.bot.auth import tokens
from actiondesk.bot.console.routes import RUNTIME, WORKER
from actiondesk.core.access import ALL_SCOPES
from actiondesk.core.case import Case, CaseKind, CaseStatus

SETTLE_LIMIT = 900.0  # seconds: a bench that stops, saying how many cases were left
APPROVAL_CLICK = 1  # slack_ack.request(n) sends an approval button click when n % 3 == 1


def dm(n: int) -> tuple[str, dict[str, str]]:
    """A signed direct message: it opens a case."""
    event = {"type": "message", "channel": f"D{n}", "channel_type": "im", "user": "U0BOB", "ts": f"{n}.0"}
    event["text"] = f"checkout is throwing 500s for customers (report {n})"
    body = json.dumps({"type": "event_callback", "team_id": "T1", "event_id": f"EvLoad{n}", "event": event})
    ts = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": SignatureVerifier(SECRET).generate_signature(timestamp=ts, body=body),
    }
    return body, headers


async def timed(call: Callable[[], Awaitable[None]]) -> float:
    started = time.perf_counter()
    await call()
    return (time.perf_counter() - started) * 1000


async def get(session: ClientSession, url: str, headers: dict[str, str] | None = None) -> None:
    async with session.get(url, headers=headers) as response:
        await response.read()
        assert response.status == 200, (url, response.status)


async def burst(session: ClientSession, url: str, count: int, concurrency: int, first: int) -> list[float]:
    gate = asyncio.Semaphore(concurrency)

    async def one(n: int) -> float:
        body, headers = dm(n)
        async with gate:
            started = time.perf_counter()
            async with session.post(url + "/slack/events", data=body.encode(), headers=headers) as response:
                await response.read()
                assert response.status == 200, response.status
            return (time.perf_counter() - started) * 1000

    return list(await asyncio.gather(*(one(first + n) for n in range(count))))


def open_work(app_runtime) -> int:
    """Cases with work to do (not final, not waiting for a person, an answer, a date or a watch's next look)."""
    due = cases_table.c.status.in_([s.value for s in QUEUED])
    with app_runtime.store._engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(cases_table).where(due)).scalar_one())


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def store_cases(runtime, count: int) -> None:
    """Grow the cases table to ``count`` stored (resolved) cases, in large transactions."""
    now = datetime.now(UTC) - timedelta(days=1)
    with runtime.store._engine.connect() as connection:
        have = int(connection.execute(select(func.count()).select_from(cases_table)).scalar_one())
    while have < count:
        with runtime.store.transaction() as uow:
            for n in range(have, min(count, have + 5000)):
                at = now - timedelta(seconds=n)
                case = Case(
                    id=f"C-stored-{n}",
                    kind=CaseKind.INCIDENT,
                    title="stored",
                    text="a stored case",
                    reporter="alice",
                    created_at=at,
                    updated_at=at,
                )
                uow.add_case(case.moved(CaseStatus.ESCALATED, at) if n % 2 else case)
        have = min(count, have + 5000)


def line(name: str, ours: str, baseline: str, ratio: float | None, goal: str) -> None:
    shown = f"{ratio:6.2f}x" if ratio is not None else "       "
    print(f"  {name:<40} {ours:<24} {baseline:<32} {shown}  {goal}", flush=True)


async def main(events: int, concurrency: int, creations: int, stored: list[int]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        slack_runner, slack_url = await serve(fake_slack())
        api = slack_url + "/api/"
        app = actiondesk(api, Path(folder))
        runtime = app[RUNTIME]
        ours_runner, ours = await serve(app)
        bare_runner, bare = await serve(bare_bolt(api))
        _, token = tokens.create(runtime.store.access, runtime.directory, "bob", ALL_SCOPES, runtime.clock.now())
        auth = {"Authorization": f"Bearer {token}"}
        print(f"ActionDesk load, on loopback; Python {sys.version.split()[0]}", flush=True)
        print(f"  {'figure':<40} {'actiondesk':<24} {'baseline (same run)':<32} {'ratio':>7}  goal", flush=True)
        async with ClientSession(connector=TCPConnector(limit=0)) as session:
            for n in range(30):  # warm both up
                await fire(session, ours, 30_000 + n, api)
                await fire(session, bare, 30_000 + n, api)

            async def health() -> None:
                await get(session, ours + "/healthz")

            async def click(n: int) -> None:
                await fire(session, ours, n, api)

            idle_health = [await timed(health) for _ in range(100)]
            idle_click = [await timed(lambda n=n: click(3 * n + APPROVAL_CLICK)) for n in range(40_000, 40_100)]
            idle_rss = rss_mib()

            # the burst, probed while it and its cases are worked
            busy_health: list[float] = []
            busy_click: list[float] = []
            settled = asyncio.Event()

            async def probe() -> None:
                n = 50_000
                while not settled.is_set():
                    busy_health.append(await timed(health))
                    busy_click.append(await timed(lambda n=n: click(3 * n + APPROVAL_CLICK)))
                    n += 1
                    await asyncio.sleep(0.02)

            prober = asyncio.ensure_future(probe())
            started = time.perf_counter()
            acks = await burst(session, ours, events, concurrency, 0)
            acked = time.perf_counter() - started
            left, shown_at = -1, 0.0
            while time.perf_counter() - started < SETTLE_LIMIT:  # until every case of the burst has no work now
                opened = await asyncio.to_thread(lambda: runtime.store.list_cases(limit=events + 10))
                left = events - len(opened) + await asyncio.to_thread(open_work, runtime)
                if left <= 0:
                    break
                if time.perf_counter() - shown_at > 10:
                    shown_at = time.perf_counter()
                    print(f"  ... {left} cases still to work ({shown_at - started:.0f} s)", file=sys.stderr, flush=True)
                await asyncio.sleep(0.25)
            settle = time.perf_counter() - started
            settled.set()
            await prober
            busy_rss = rss_mib()
            waiting = len([c for c in opened if not c.status.terminal])
            bare_acks = await burst(session, bare, events, concurrency, 100_000)
            a50, a99, b50, b99 = pct(acks, 50), pct(acks, 99), pct(bare_acks, 50), pct(bare_acks, 99)
            burst_name = f"{events} DMs at {concurrency}"
            line(f"slack ack p50, {burst_name}", f"{a50:.1f} ms", f"bare Bolt {b50:.1f} ms", a50 / b50, "")
            line(f"slack ack p99, {burst_name}", f"{a99:.1f} ms", f"bare Bolt {b99:.1f} ms", a99 / b99, "<= 1.3x")
            h99, ih99 = pct(busy_health, 99), pct(idle_health, 99)
            shown = f"{h99:.1f} ms (n={len(busy_health)})"
            line("/healthz p99 during the burst", shown, f"idle {ih99:.1f} ms", h99 / ih99, "< 100 ms")
            c99, ic99 = pct(busy_click, 99), pct(idle_click, 99)
            shown = f"{c99:.1f} ms (n={len(busy_click)})"
            line("approval click p99 during the burst", shown, f"idle {ic99:.1f} ms", c99 / ic99, "< 250 ms")
            done = f"{settle:.1f} s" if left <= 0 else f"{left} left at {settle:.0f} s"
            line(f"all {events} cases final or waiting", done, f"acks done in {acked:.1f} s", None, "")
            ratio = busy_rss / idle_rss
            line(
                f"RSS with {waiting} open cases", f"{busy_rss:.0f} MiB", f"idle {idle_rss:.0f} MiB", ratio, "< 300 MiB"
            )

            # console creations at 50 concurrent, beside /healthz at 50 concurrent
            gate = asyncio.Semaphore(50)

            async def create(n: int) -> float:
                async with gate:
                    started = time.perf_counter()
                    body = {"text": f"payment-gateway is slow for some users (console {n})"}
                    async with session.post(ours + "/api/cases", json=body, headers=auth) as response:
                        await response.read()
                        assert response.status == 201, response.status
                    return (time.perf_counter() - started) * 1000

            async def healthy() -> float:
                async with gate:
                    return await timed(health)

            began = time.perf_counter()
            created = list(await asyncio.gather(*(create(n) for n in range(creations))))
            create_rate = creations / (time.perf_counter() - began)
            floor = list(await asyncio.gather(*(healthy() for _ in range(creations))))
            p50, p99, f99 = pct(created, 50), pct(created, 99), pct(floor, 99)
            line(f"console creation p50, {creations} at 50", f"{p50:.1f} ms", "", None, f"{create_rate:.0f}/s")
            shown = f"/healthz at 50: {f99:.1f} ms"
            line(f"console creation p99, {creations} at 50", f"{p99:.1f} ms", shown, p99 / f99, "< 250 ms")
            await app[WORKER].idle()

            scrapes: dict[int, float] = {}
            for count in stored:
                await asyncio.to_thread(store_cases, runtime, count)
                await get(session, ours + "/metrics", auth)  # warm
                best = min([await timed(lambda: get(session, ours + "/metrics", auth)) for _ in range(3)])
                scrapes[count] = best
                low = min(scrapes)
                shown = f"{low:,} stored: {scrapes[low]:.1f} ms"
                ratio = best / scrapes[low]
                line(f"/metrics scrape, {count:,} stored cases", f"{best:.1f} ms", shown, ratio, "ratio ~ 1")

        for runner in (ours_runner, bare_runner, slack_runner):
            await runner.cleanup()
        await app[WORKER].drain()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--creations", type=int, default=1000)
    parser.add_argument("--stored", default="10000,100000", help="stored-case counts to scrape /metrics at")
    args = parser.parse_args()
    counts = sorted(int(n) for n in args.stored.split(",") if n)
    asyncio.run(main(args.events, args.concurrency, args.creations, counts))
