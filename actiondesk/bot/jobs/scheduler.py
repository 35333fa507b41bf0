"""Background jobs on APScheduler, each shared firing run exactly once across processes on one database.

APScheduler only says *when*; the database says *who*: before a job with shared effects runs, the process
claims its (job, fire time) in ``job_fires`` (``Store.claim_fire``), and only the one that gets it runs it.
Fire times are the schedule's own (the start of the interval slot, the cron time), not the moment a process
woke up, so replicas whose clocks differ a little still claim the same firing. Missed firings are coalesced
into one and run late within a grace period, then skipped.

Jobs:

- ``approvals`` (every sweep interval, once): expire overdue approvals, escalate the ones waiting too long,
  close break-glass approvals whose time box ended.
- ``chaos:<service>:<n>`` (``ACTIONDESK_CHAOS_SCHEDULE`` cron, once): switch the service's chaos day on
  through the controls (audited), until the entry's minutes are up.
- ``resume`` (every sweep interval, in every process): pick up cases nobody is working on, a crashed
  replica's say; the case lease keeps two processes off one case.
- ``calendars`` and ``policies`` (in every process): re-read the freeze and chaos calendars and the Cedar
  files; each process keeps its own parsed copy, so these are local by design.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from actiondesk.agents.controls import Controls
from actiondesk.bot.reports import metrics
from actiondesk.bot.reports.text import metrics_lines
from actiondesk.bot.wiring.root import Runtime
from actiondesk.core.errors import ActionDeskError, ConfigurationError

log = logging.getLogger(__name__)

_DOW = {"0": "sun", "1": "mon", "2": "tue", "3": "wed", "4": "thu", "5": "fri", "6": "sat", "7": "sun"}


def sweep_interval(runtime: Runtime) -> float:
    """Often enough to take over a dead replica's case soon after its lease runs out."""
    return max(0.5, min(runtime.settings.lease_seconds / 2, 15.0))


def cron_trigger(expression: str) -> CronTrigger:
    """A standard 5-field cron expression (minute hour day month weekday, 0 or 7 = Sunday), in UTC."""
    fields = expression.split()
    if len(fields) != 5:
        raise ConfigurationError(f"cron {expression!r}: expected 5 fields (minute hour day month weekday)")
    # APScheduler numbers weekdays from Monday = 0; standard cron from Sunday = 0. Names mean the same to both.
    fields[4] = re.sub(r"(?<![/\d])\d(?!\d)", lambda m: _DOW[m.group(0)], fields[4])
    try:
        return CronTrigger.from_crontab(" ".join(fields), timezone=UTC)
    except ValueError as exc:
        raise ConfigurationError(f"cron {expression!r}: {exc}") from None


def last_fire(trigger: CronTrigger, now: datetime, lookback: timedelta) -> datetime | None:
    """The latest scheduled time of ``trigger`` at or before ``now``, looking back at most ``lookback``."""
    fire = trigger.get_next_fire_time(None, now - lookback)
    latest = None
    while fire is not None and fire <= now:
        latest = fire
        fire = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
    return latest


def slot(now: datetime, seconds: float) -> datetime:
    """The start of the interval slot ``now`` falls in: the same firing on every replica."""
    epoch = now.timestamp()
    return datetime.fromtimestamp(math.floor(epoch / seconds) * seconds, tz=UTC)


@dataclass(frozen=True)
class ChaosEntry:
    service: str
    cron: str
    minutes: int
    trigger: CronTrigger

    @classmethod
    def parse(cls, index: int, raw: dict[str, Any]) -> ChaosEntry:
        where = f"ACTIONDESK_CHAOS_SCHEDULE[{index}]"
        try:
            service, cron, minutes = str(raw["service"]), str(raw["cron"]), int(raw.get("minutes", 480))
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigurationError(f"{where}: needs service, cron and minutes ({exc})") from None
        if minutes <= 0:
            raise ConfigurationError(f"{where}: minutes must be positive")
        try:
            trigger = cron_trigger(cron)
        except ConfigurationError as exc:
            raise ConfigurationError(f"{where}: {exc}") from None
        return cls(service, cron, minutes, trigger)


class Scheduler:
    """The jobs, runnable by hand (``fire``) and by APScheduler (``start``)."""

    def __init__(
        self,
        runtime: Runtime,
        resume: Callable[[], Awaitable[int]] | None = None,
        *,
        owner: str | None = None,
        offload: Callable[[Callable[[], Any]], Awaitable[Any]] | None = None,
    ) -> None:
        self.runtime = runtime
        # where a job's blocking body runs: the server passes its jobs pool, off the requests' default executor
        self._offload = offload or asyncio.to_thread
        self.owner = owner or runtime.loop.owner
        self._resume = resume
        self.interval = sweep_interval(runtime)
        self.chaos = [ChaosEntry.parse(i, raw) for i, raw in enumerate(runtime.settings.chaos_schedule)]
        self._system = Controls(runtime.store, runtime.clock, runtime.settings.agent_identity)
        self._aps: AsyncIOScheduler | None = None
        self.report_trigger = cron_trigger(runtime.settings.report_cron)
        self.reports: list[Callable[[str], Awaitable[None]]] = []  # where the weekly report goes (Slack adds one)

    # Fire-once

    def claim(self, job: str, fire_at: datetime) -> bool:
        """Whether this process runs ``job``'s firing at ``fire_at`` (exactly one process gets True)."""
        return self.runtime.store.claim_fire(job, fire_at, self.owner, self.runtime.clock.now())

    def run_approvals(self, fire_at: datetime) -> dict[str, int] | None:
        if not self.claim("approvals", fire_at):
            return None
        approvals = self.runtime.approvals
        done = {
            "expired": approvals.expire_due(),
            "escalated": approvals.escalate_due(),
            "break_glass_closed": approvals.expire_break_glass_due(),
        }
        if any(done.values()):
            log.info("approvals job at %s: %s", fire_at.isoformat(), done)
        return done

    def run_chaos(self, index: int, fire_at: datetime) -> bool:
        entry = self.chaos[index]
        until = fire_at + timedelta(minutes=entry.minutes)
        if until <= self.runtime.clock.now() or not self.claim(f"chaos:{entry.service}:{index}", fire_at):
            return False
        self._system.start_chaos(entry.service, until, by=f"schedule ({entry.cron})")
        log.info("chaos day on %s until %s (schedule %s)", entry.service, until.isoformat(), entry.cron)
        return True

    def due_chaos(self, now: datetime) -> list[tuple[int, datetime]]:
        """Chaos entries whose latest cron time is within their duration (what a late start still runs)."""
        due = []
        for index, entry in enumerate(self.chaos):
            fire = last_fire(entry.trigger, now, timedelta(minutes=entry.minutes))
            if fire is not None:
                due.append((index, fire))
        return due

    def run_report(self, fire_at: datetime) -> str | None:
        """The weekly resolution report for the 7 days before ``fire_at``, if this process claims the firing."""
        if not self.claim("weekly-report", fire_at):
            return None
        figures = metrics.report(
            self.runtime.reports, fire_at - timedelta(days=7), fire_at, self.runtime.settings.infra_cost_per_hour
        )
        return "\n".join(["*ActionDesk weekly resolution report*", *metrics_lines(figures)])

    def run_summaries(self) -> int:
        """A model's summary paragraph for each post-mortem of the last day that has none (when configured)."""
        summaries = self.runtime.summaries
        if summaries is None:
            return 0
        return summaries.write_due(self.runtime.clock.now() - timedelta(days=1))

    def refresh_calendars(self) -> int:
        calendars = self.runtime.governance.calendars
        return calendars.refresh(self.runtime.clock.now()) if calendars is not None else 0

    def refresh_policies(self) -> bool:
        return self.runtime.governance.policies.refresh()

    # APScheduler

    async def _job(self, name: str, body: Callable[[], object]) -> None:
        try:
            await self._offload(body)
        except ActionDeskError as exc:
            log.error("job %s: %s", name, exc)
        except Exception:  # the edge of a scheduled job: log it and let the next firing try again
            log.exception("job %s failed", name)

    async def _approvals(self) -> None:
        now = self.runtime.clock.now()
        await self._job("approvals", lambda: self.run_approvals(slot(now, self.interval)))

    async def _resume_cases(self) -> None:
        if self._resume is None:
            return
        try:
            await self._resume()
        except Exception:  # the edge of a scheduled job
            log.exception("job resume failed")

    async def _chaos(self, index: int) -> None:
        now = self.runtime.clock.now()
        fire = last_fire(self.chaos[index].trigger, now, timedelta(minutes=self.chaos[index].minutes))
        if fire is not None:
            await self._job(f"chaos:{index}", lambda: self.run_chaos(index, fire))

    async def _report(self) -> None:
        fire = last_fire(self.report_trigger, self.runtime.clock.now(), timedelta(hours=1))
        if fire is None:
            return
        try:
            text = await self._offload(lambda: self.run_report(fire))
        except ActionDeskError as exc:
            log.error("job weekly-report: %s", exc)
            return
        for post in self.reports if text else ():
            try:
                await post(text or "")
            except Exception:  # the edge of a scheduled job: one failed channel does not stop the others
                log.exception("posting the weekly report failed")

    def start(self) -> None:
        """Add the jobs to an AsyncIOScheduler on the running event loop and start it."""
        aps = AsyncIOScheduler(
            timezone=UTC, job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60}
        )
        every = IntervalTrigger(seconds=self.interval, timezone=UTC)
        aps.add_job(self._approvals, every, id="approvals", name="approvals")
        aps.add_job(self._resume_cases, IntervalTrigger(seconds=self.interval, timezone=UTC), id="resume")
        aps.add_job(
            self._job,
            IntervalTrigger(seconds=self.runtime.settings.calendar_refresh_seconds, timezone=UTC),
            args=("calendars", self.refresh_calendars),
            id="calendars",
        )
        aps.add_job(
            self._job,
            IntervalTrigger(seconds=max(2.0, self.runtime.governance.policies.check_seconds), timezone=UTC),
            args=("policies", self.refresh_policies),
            id="policies",
        )
        if self.runtime.summaries is not None:
            aps.add_job(self._job, every, args=("postmortem-summaries", self.run_summaries), id="summaries")
        if self.reports:
            aps.add_job(self._report, self.report_trigger, id="weekly-report", misfire_grace_time=3600)
        for index, entry in enumerate(self.chaos):
            aps.add_job(self._chaos, entry.trigger, args=(index,), id=f"chaos:{index}", misfire_grace_time=None)
        aps.start()
        self._aps = aps
        # a chaos day whose start was missed while no process ran is still switched on for its remaining time
        for index, _ in self.due_chaos(self.runtime.clock.now()):
            asyncio.get_running_loop().create_task(self._chaos(index))

    @property
    def running(self) -> bool:
        """Whether the jobs are scheduled (between ``start`` and ``stop``)."""
        return self._aps is not None and self._aps.running

    def stop(self) -> None:
        if self._aps is not None:
            self._aps.shutdown(wait=False)
            self._aps = None
