"""The weekly resolution report: posted to the configured channel by exactly one replica per firing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from slackdesk import start_desk

from actiondesk.bot.jobs.scheduler import Scheduler
from actiondesk.bot.web.serverkeys import SCHEDULER


async def test_the_weekly_report_is_posted_once_to_the_configured_channel(sqlite_url, fake, monkeypatch):
    monkeypatch.setenv("ACTIONDESK_REPORT_CHANNEL", "C0REPORTS")
    due = datetime.now(UTC) - timedelta(minutes=10)  # a firing ten minutes ago, still within the catch-up hour
    monkeypatch.setenv("ACTIONDESK_REPORT_CRON", f"{due.minute} {due.hour} * * *")
    desk, runner = await start_desk(sqlite_url, fake)
    try:
        scheduler = desk.app[SCHEDULER]
        assert len(scheduler.reports) == 1, "Slack registered its poster for the configured channel"
        other_replica = Scheduler(desk.runtime, owner="replica-2")
        other_replica.reports.extend(scheduler.reports)

        await scheduler._report()
        await other_replica._report()  # the same firing: claimed already, nothing posted

        posts = await fake.wait_for(
            lambda f: [c for c in f.named("chat.postMessage") if c.args["channel"] == "C0REPORTS"]
        )
        assert len(posts) == 1
        text = posts[0].args["text"]
        assert text.startswith("*ActionDesk weekly resolution report*")
        assert "MTTR" in text
        assert "first-contact resolution" in text
    finally:
        await desk.session.close()
        await runner.cleanup()


async def test_no_channel_no_report(sqlite_url, fake):
    desk, runner = await start_desk(sqlite_url, fake)
    try:
        assert desk.app[SCHEDULER].reports == []
    finally:
        await desk.session.close()
        await runner.cleanup()
