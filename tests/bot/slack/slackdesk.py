"""The ActionDesk server in-process on port 0 with the Slack surface mounted, talking to a local fake Slack."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import ClientSession, web
from slackfake import SECRET, FakeSlack, action_body, command_body, event_body, post, signed
from slackflow import FAST

from actiondesk.bot.scenario.runner import scenario_policy
from actiondesk.bot.server.app import make_app
from actiondesk.bot.slack import SlackConfig, mount_slack
from actiondesk.bot.web.events import ChangeFeed
from actiondesk.bot.wiring.boot import serve_estate
from actiondesk.bot.wiring.root import Runtime, build_runtime, open_store
from actiondesk.core.clock import SystemClock
from actiondesk.core.settings import Settings


def desk_settings(database_url: str, **extra: Any) -> Settings:
    fields: dict[str, Any] = {
        "database_url": database_url,
        "agent_identity": "actiondesk",
        "verify_interval_seconds": 0.2,
        "verify_timeout_seconds": 30,
        "lease_seconds": 30,
        "autonomy": {},
        "granted_scopes": {},
        "sandbox_scenario": None,
        "directory_file": None,
        "runbook_dir": None,
        **extra,
    }
    return Settings(_env_file=None, **fields)  # type: ignore[call-arg]


@dataclass
class Desk:
    url: str
    fake: FakeSlack
    runtime: Runtime
    app: web.Application
    session: ClientSession

    @property
    def events_url(self) -> str:
        return self.url + "/slack/events"

    async def event(self, event: dict[str, Any], event_id: str, **headers: str) -> tuple[int, str, float]:
        body = event_body(event, event_id)
        return await post(
            self.session, self.events_url, body, {**signed(body, content_type="application/json"), **headers}
        )

    async def click(
        self, action_id: str, value: str, user: str, trigger: str, channel: str = "C0OPS"
    ) -> tuple[int, str, float]:
        body = action_body(action_id, value, user, trigger, channel)
        return await post(
            self.session, self.events_url, body, signed(body, content_type="application/x-www-form-urlencoded")
        )

    async def command(self, text: str, user: str, trigger: str, hook: str = "h") -> tuple[int, str, float]:
        body = command_body(text, user, self.fake.url + f"respond/{hook}", trigger)
        return await post(
            self.session, self.events_url, body, signed(body, content_type="application/x-www-form-urlencoded")
        )


async def start_desk(
    database_url: str,
    fake: FakeSlack,
    *,
    via_settings: bool = False,
    mount: bool = True,
    app_token: str | None = None,
    settings: dict[str, Any] | None = None,
) -> tuple[Desk, web.AppRunner]:
    """Slack from Settings (``via_settings``, as `serve` does), mounted with quick pacing, or not at all;
    ``settings`` adds to the test's settings."""
    extra: dict[str, Any] = dict(settings or {})
    if via_settings:
        extra |= {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": SECRET, "slack_api_url": fake.url}
    configured = desk_settings(database_url, **extra)
    store = open_store(configured)
    clock = SystemClock()
    estate, scenario = serve_estate(configured, store, clock)
    feed = ChangeFeed()
    policy = scenario_policy(scenario, configured)
    runtime = build_runtime(configured, store, estate, clock, policy, notify=feed.publish)
    app = make_app(runtime, feed)
    if mount and not via_settings:
        mount_slack(app, config=SlackConfig("xoxb-test", SECRET, api_url=fake.url, app_token=app_token), pacing=FAST)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    session = ClientSession()
    return Desk(f"http://{host}:{port}", fake, runtime, app, session), runner
