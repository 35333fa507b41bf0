"""The servers a load bench measures, each in a process of its own, as a deployment has them: its clients elsewhere.

    python bench/serving.py slack                          # the fake Slack Web API
    python bench/serving.py bare --api URL                 # a bare Bolt app whose listeners only ack
    python bench/serving.py actiondesk --api URL --folder DIR  # ActionDesk (bench/slack_ack.py's) on SQLite

Each listens on a free loopback port and prints one JSON line on stdout once it serves: its ``url`` and ``pid``
(ActionDesk's also an API ``token`` with every scope, made at start, for the console's API and /metrics). It
serves until SIGTERM or SIGINT; ActionDesk then stops its case worker and waits for the steps still running.

``spawn`` (for the benches) starts one and reads that line; ``Served.stop`` ends it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
START_LIMIT = 120.0  # seconds for a server to say where it listens


@dataclass
class Served:
    """A server process of the bench's: where it listens, its pid, what else it printed at start."""

    process: asyncio.subprocess.Process
    url: str
    pid: int
    info: dict[str, str] = field(default_factory=dict)

    def rss_mib(self) -> float:
        """The server process's resident set (VmRSS), in MiB."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        await self.process.wait()


async def spawn(*args: str) -> Served:
    """Start ``bench/serving.py args...`` and wait for the line that says where it listens."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(HERE / "serving.py"), *args, stdout=asyncio.subprocess.PIPE
    )
    assert process.stdout is not None
    try:
        first = await asyncio.wait_for(process.stdout.readline(), START_LIMIT)
    except TimeoutError:
        process.kill()
        raise
    if not first:
        await process.wait()
        raise RuntimeError(f"bench/serving.py {' '.join(args)} stopped before serving ({process.returncode})")
    said = json.loads(first)
    return Served(process, said.pop("url"), int(said.pop("pid")), said)


async def _until_stopped() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


def _say(url: str, **more: str) -> None:
    print(json.dumps({"url": url, "pid": os.getpid(), **more}), flush=True)


async def _main(args: argparse.Namespace) -> None:
    # imported here: the client process (``spawn``) never loads ActionDesk or Bolt for nothing
    from slack_ack import actiondesk, bare_bolt, fake_slack, serve

    if args.what == "slack":
        runner, url = await serve(fake_slack())
        _say(url)
    elif args.what == "bare":
        runner, url = await serve(bare_bolt(args.api))
        _say(url)
    else:
        from actiondesk.bot.auth import tokens
        from actiondesk.bot.web.appkeys import WORKER
        from actiondesk.bot.web.serverkeys import RUNTIME
        from actiondesk.core.access import ALL_SCOPES

        app = actiondesk(args.api, Path(args.folder))
        runtime = app[RUNTIME]
        _, token = tokens.create(runtime.store.access, runtime.directory, "bob", ALL_SCOPES, runtime.clock.now())
        runner, url = await serve(app)
        _say(url, token=token)
    try:
        await _until_stopped()
    finally:
        await runner.cleanup()
        if args.what == "actiondesk":
            await app[WORKER].drain()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("slack", "bare", "actiondesk"))
    parser.add_argument("--api", default="", help="the (fake) Slack Web API's base URL, ending in /api/")
    parser.add_argument("--folder", default="", help="ActionDesk's folder: its SQLite file is bench.db in it")
    asyncio.run(_main(parser.parse_args()))
