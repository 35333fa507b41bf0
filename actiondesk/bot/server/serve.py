"""`actiondesk serve`: build the runtime, start the aiohttp server, say where it listens."""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
from collections.abc import Coroutine
from typing import Any

from aiohttp import web

from actiondesk.bot.auth.config import DEMO_BANNER, AccessConfig, Mode
from actiondesk.bot.jobs.checkpoints import Publisher, load_private
from actiondesk.bot.jobs.mirroring import start_mirroring
from actiondesk.bot.scenario.runner import scenario_policy
from actiondesk.bot.server.allocator import limit_arenas, trim_when_settled
from actiondesk.bot.server.app import make_app
from actiondesk.bot.server.health import BACKGROUND, require_current_schema
from actiondesk.bot.teams.config import TeamsConfig, banner
from actiondesk.bot.web.appkeys import WORKER
from actiondesk.bot.web.events import ChangeFeed
from actiondesk.bot.wiring.boot import serve_estate
from actiondesk.bot.wiring.logs import announce
from actiondesk.bot.wiring.root import build_runtime, open_store
from actiondesk.core.clock import SystemClock
from actiondesk.core.settings import Settings

log = logging.getLogger(__name__)


def loop_task(coroutine: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
    return asyncio.get_running_loop().create_task(coroutine)


def _doctor(settings: Settings) -> None:
    from opentelemetry.instrumentation.utils import suppress_instrumentation

    from actiondesk.bot.doctor.report import diagnose, log_report

    try:
        with suppress_instrumentation():  # the start-up probes belong to no case: no traces of their own
            log_report(diagnose(settings))
    except Exception:  # a report, not a gate: whatever goes wrong in it is logged and serving goes on
        log.exception("doctor: the start-up report of the configured systems failed")


async def run_server(settings: Settings) -> None:
    limit_arenas(settings.malloc_arenas)  # before the threads that would each get an arena (allocator.py)
    access = AccessConfig.from_settings(settings)
    access.check_listen(settings.host)  # no unauthenticated console on a reachable address
    clock = SystemClock()
    store = await asyncio.to_thread(open_store, settings, migrate=settings.migrate_on_start)
    if not settings.migrate_on_start:
        await asyncio.to_thread(require_current_schema, store)
    estate, scenario = await asyncio.to_thread(serve_estate, settings, store, clock)
    publisher = None  # checked before listening: a bad key stops the start with a clear error
    if settings.audit_signing_key is not None and settings.audit_checkpoint_file is not None:
        publisher = Publisher(store, load_private(settings.audit_signing_key), settings.audit_checkpoint_file, clock)
    feed = ChangeFeed()
    # bound before the runtime is built: with port 0 the console's own URL (the sign-in callback's, and the one
    # pages and messages link to) is known only now
    sock = socket.create_server(
        (settings.host, settings.port), family=socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    )
    bound_host, bound_port = sock.getsockname()[:2]
    shown_host = f"[{bound_host}]" if ":" in bound_host else bound_host
    access = access.listening_at(f"http://{shown_host}:{bound_port}")
    try:
        runtime = build_runtime(
            settings,
            store,
            estate,
            clock,
            scenario_policy(scenario, settings),
            notify=feed.publish,
            console_url=access.public_url,
        )
    except BaseException:
        sock.close()
        raise
    app = make_app(runtime, feed, access)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.SockSite(runner, sock)
    await site.start()
    host, port = runner.addresses[0][:2]
    announce(settings, f"ActionDesk serving on http://{host}:{port}")
    if access.mode is Mode.DEMO:
        announce(settings, DEMO_BANNER, logging.WARNING)
    teams_warning = banner(TeamsConfig.from_settings(settings))
    if teams_warning:
        announce(settings, teams_warning, logging.WARNING)
    publishing = None
    if publisher is not None:
        publishing = asyncio.get_running_loop().create_task(publisher.run(settings.audit_checkpoint_minutes))
    # the doctor's report of every configured system, logged once the probes answer; it never stops the start
    doctoring = loop_task(asyncio.to_thread(_doctor, settings))
    # ticket mirroring: outbox delivery and comments read back (asyncio tasks; see outbox_setup.py)
    mirroring = start_mirroring(runtime, runtime.loop.owner, app[WORKER].kick, feed.publish)
    app[BACKGROUND].extend(mirroring)  # /readyz reports a background task that died
    worker = app[WORKER]
    trimming = loop_task(trim_when_settled(lambda: bool(worker.busy or worker.backlogged)))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        log.info("shutting down")
        if publishing is not None:
            publishing.cancel()
        doctoring.cancel()
        trimming.cancel()
        for task in mirroring:
            task.cancel()
        await runner.cleanup()
        if publisher is not None:
            # a case step still running in a worker thread finishes first (the process would wait for it anyway),
            # then the head as the stop leaves it is signed: nothing waits for the next interval
            await app[WORKER].drain()
            await loop.shutdown_default_executor()
            try:
                publisher.publish_once()
            except Exception:  # the edge of shutdown: say so, and stop all the same
                log.exception("publishing the shutdown audit checkpoint failed")
