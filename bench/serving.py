"""The servers a load bench measures, each in a process of its own, as a deployment has them: its clients elsewhere.

    python bench/serving.py slack                          # the fake Slack Web API
    python bench/serving.py bare --api URL                 # a bare Bolt app whose listeners only ack
    python bench/serving.py actiondesk --api URL --folder DIR  # ActionDesk (bench/slack_ack.py's) on SQLite
    python bench/serving.py serve --api URL --folder DIR   # `actiondesk serve` itself, as deployed, on SQLite

Each listens on a free loopback port and prints one JSON line on stdout once it serves: its ``url`` and ``pid``
(ActionDesk's also an API ``token`` with every scope, made at start, for the console's API and /metrics). It
serves until SIGTERM or SIGINT; ActionDesk then stops its case worker and waits for the steps still running.
``serve`` is the product's own command (its allocator settings, its jobs, its start-up report) configured by
environment as an operator would, and says where it listens in its own words ("ActionDesk serving on URL"); with
``--diagnose FILE`` it also writes what holds its memory to FILE each time it gets SIGUSR1 (bench/heap.py's).

``spawn`` (for the benches) starts one and reads that line; ``Served.memory`` reads the process's memory from
/proc; ``Served.stop`` ends it. A server's own output (its log) is kept out of the bench's: the last lines are
shown if it stops before serving.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import re
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
START_LIMIT = 120.0  # seconds for a server to say where it listens
SECRET = "bench-secret"  # bench/slack_ack.py's signing secret (not imported: this module stays light)
SERVING = re.compile(r"ActionDesk serving on (http://[^\s\"]+)")
KEPT_LINES = 40  # of a server's output, shown if it stops before serving


@dataclass
class Served:
    """A server process of the bench's: where it listens, its pid, what else it printed at start."""

    process: asyncio.subprocess.Process
    url: str
    pid: int
    info: dict[str, str] = field(default_factory=dict)
    output: asyncio.Future[None] | None = None  # reads its output for the rest of its life: the pipe never fills

    def rss_mib(self) -> float:
        """The server process's resident set (VmRSS), in MiB."""
        return self.memory()["Rss"]

    def memory(self) -> dict[str, float]:
        """MiB, from /proc/PID/status: ``Rss`` (VmRSS), ``Anonymous`` (RssAnon: the heap, Python's objects,
        malloc's arenas, SQLite's caches), ``File`` (RssFile: code and mapped files) and ``Peak`` (VmHWM)."""
        names = {"VmRSS": "Rss", "RssAnon": "Anonymous", "RssFile": "File", "VmHWM": "Peak"}
        found = dict.fromkeys(names.values(), float("nan"))
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in names:
                found[names[key]] = int(value.split()[0]) / 1024
        return found

    def signal(self, sig: signal.Signals) -> None:
        self.process.send_signal(sig)

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        await self.process.wait()
        if self.output is not None:
            await self.output


def _environment() -> dict[str, str]:
    """This process's environment without ActionDesk's, Slack's or OpenTelemetry's configuration: a server is
    configured by its arguments only."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("ACTIONDESK_", "OTEL_", "SLACK_"))}


async def spawn(*args: str) -> Served:
    """Start ``bench/serving.py args...`` and wait for the line that says where it listens."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(HERE / "serving.py"), *args,
        env=_environment(), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    assert process.stdout is not None
    said: dict[str, str] = {}
    last: collections.deque[str] = collections.deque(maxlen=KEPT_LINES)

    async def listening() -> None:
        assert process.stdout is not None
        while line := (await process.stdout.readline()).decode(errors="replace"):
            last.append(line)
            if line.startswith("{"):
                said.update(json.loads(line))
                return
            if match := SERVING.search(line):
                said.update(url=match.group(1), pid=str(process.pid))
                return

    try:
        await asyncio.wait_for(listening(), START_LIMIT)
    except TimeoutError:
        process.kill()
        raise
    if not said:
        await process.wait()
        shown = "".join(last)
        raise RuntimeError(f"bench/serving.py {' '.join(args)} stopped before serving ({process.returncode}):\n{shown}")
    output = asyncio.ensure_future(process.stdout.read())
    return Served(process, said.pop("url"), int(said.pop("pid")), said, output)


async def _until_stopped() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


def _say(url: str, **more: str) -> None:
    print(json.dumps({"url": url, "pid": os.getpid(), **more}), flush=True)


def _serve(args: argparse.Namespace) -> None:
    """``actiondesk serve`` in this process, configured by environment as deployed; it prints where it listens."""
    os.environ |= {
        "DATABASE_URL": f"sqlite:///{Path(args.folder) / 'bench.db'}",
        "SLACK_BOT_TOKEN": "xoxb-bench",
        "SLACK_SIGNING_SECRET": SECRET,
        "ACTIONDESK_SLACK_API_URL": args.api,
    }
    if args.diagnose:
        from heap import on_signal

        on_signal(Path(args.diagnose), trace=args.trace)
    from actiondesk.bot.cli.main import app

    app(["serve", "--host", "127.0.0.1", "--port", "0"], prog_name="actiondesk")


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
    parser.add_argument("what", choices=("slack", "bare", "actiondesk", "serve"))
    parser.add_argument("--api", default="", help="the (fake) Slack Web API's base URL, ending in /api/")
    parser.add_argument("--folder", default="", help="ActionDesk's folder: its SQLite file is bench.db in it")
    parser.add_argument("--diagnose", default="", help="serve: a file to write what holds memory to on SIGUSR1")
    parser.add_argument("--trace", action="store_true", help="serve --diagnose: trace allocations (tracemalloc)")
    arguments = parser.parse_args()
    if arguments.what == "serve":
        _serve(arguments)
    else:
        asyncio.run(_main(arguments))
