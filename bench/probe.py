"""The probes of bench/load.py, from a process of their own as a kubelet's and Slack's are: `GET /healthz`, `GET
/readyz` (the database answers, its schema is current, the case worker runs), then a signed approval click, every
20 ms, until its standard input closes.

    python bench/probe.py URL API

It prints ``ready`` once its connection is open, and when its input closes one JSON line: ``[[at, healthz ms,
readyz ms, click ms], ...]``, ``at`` being the wall-clock time (``time.time()``) each probe started. Run in the
bench's own process, the probes shared an event loop with the burst's client: a probe sent while the client built
its 2,000 requests counted the client's stall as the server's.
"""

from __future__ import annotations

import asyncio
import gc
import json
import sys
import time

from aiohttp import ClientSession
from slack_ack import fire

EVERY = 0.02  # seconds between probes
APPROVAL_CLICK = 1  # slack_ack.request(n) sends an approval button click when n % 3 == 1
FIRST = 50_000  # the clicks' numbers (their trigger ids) start here, clear of the bench's own requests


async def main(url: str, api: str) -> None:
    loop = asyncio.get_running_loop()
    stdin = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)
    closed = asyncio.ensure_future(stdin.read())  # done when the bench closes this process's input
    probes: list[tuple[float, float, float, float]] = []
    async with ClientSession() as session:

        async def health(path: str = "/healthz") -> float:
            started = time.perf_counter()
            async with session.get(url + path) as response:
                await response.read()
                assert response.status == 200, response.status
            return (time.perf_counter() - started) * 1000

        await health()  # the connection is open before the first probe counts
        gc.freeze()  # what this process has built by now, out of its collector's reach: its pauses are not the server's
        print("ready", flush=True)
        n = FIRST
        while not closed.done():
            at = time.time()
            live, ready = await health(), await health("/readyz")
            probes.append((at, live, ready, await fire(session, url, 3 * n + APPROVAL_CLICK, api)))
            n += 1
            await asyncio.sleep(EVERY)
    print(json.dumps(probes), flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
