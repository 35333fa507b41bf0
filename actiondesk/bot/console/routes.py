"""HTTP routes of the console: a JSON API, a live change feed and the static page."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from datetime import UTC, tzinfo
from functools import partial
from importlib import resources
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationError

from actiondesk.agents.desk import Refusal
from actiondesk.agents.postmortem import PostMortem, render_markdown, stored_postmortem
from actiondesk.bot.auth.caller import principal
from actiondesk.bot.console.requests import add_request_routes
from actiondesk.bot.console.views import case_detail, case_summary, change_json
from actiondesk.bot.reports import metrics
from actiondesk.bot.web import jsonbody
from actiondesk.bot.web.appkeys import CLOCK, FEED, FRONT, REGISTRY, REPORTING, REPORTS, WORKER
from actiondesk.bot.web.events import CLOSED
from actiondesk.bot.web.inflight import answered
from actiondesk.core.errors import (
    CaseNotFoundError,
    NotAuthorizedError,
    StaleAnswerError,
)

log = logging.getLogger(__name__)


ID = r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}"
# How the API answers a click that changed nothing (a missing approval is 404).
REFUSED = {Refusal.MISSING: 404, Refusal.NOT_ALLOWED: 403, Refusal.HANDLED: 409, Refusal.EXPIRED: 410}
STATIC = Path(str(resources.files("actiondesk.bot.console") / "static"))


# No body names a person: the person is the signed-in principal (see bot/auth/guard.py).
class NewCase(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=4000)


class Reply(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=4000)


class Answer(BaseModel):
    """A click on one of a question's choices; ``question`` is the seq of the question the button belonged to."""

    model_config = ConfigDict(extra="forbid")
    choice: str = Field(min_length=1, max_length=200)
    question: int | None = Field(default=None, ge=1)


class Take(BaseModel):
    """Take it: nothing but who clicked, and that is the signed-in person."""

    model_config = ConfigDict(extra="forbid")


class ApprovalClick(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: str = Field(pattern="^(approve|reject)$")
    reason: str | None = Field(default=None, max_length=500)


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


T = TypeVar("T", bound=BaseModel)


async def _body(request: web.Request, model: type[T]) -> T:
    data = await jsonbody.read(request)
    if isinstance(data, dict) and "user" in data:
        raise web.HTTPBadRequest(
            text=json.dumps({"error": "user: the person is whoever is signed in (or owns the token); remove it"}),
            content_type="application/json",
        )
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors())
        raise web.HTTPBadRequest(text=json.dumps({"error": problems}), content_type="application/json") from None


async def index(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "index.html")


async def dashboard(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "dashboard.html")


async def people(request: web.Request) -> web.Response:
    directory = request.app[FRONT].directory
    listed = [{"name": p.name, "groups": sorted(p.groups)} for p in directory.people()]
    return web.json_response(listed)


async def list_cases(request: web.Request) -> web.Response:
    cases = await asyncio.to_thread(request.app[FRONT].cases, 100)
    return web.json_response([case_summary(c) for c in cases])


async def open_case(request: web.Request) -> web.Response:
    body = await _body(request, NewCase)
    who = principal(request)
    case = await asyncio.to_thread(partial(request.app[FRONT].open_case, body.text, who.person, surface="console"))
    request.app[WORKER].kick(case.id)
    return web.json_response(case_summary(case), status=201)


async def get_case(request: web.Request) -> web.Response:
    front = request.app[FRONT]
    case_id = request.match_info["case_id"]

    def read() -> dict[str, JsonValue]:
        shown = front.view(case_id)
        return case_detail(shown.case, shown.approvals, shown.timeline, shown.asked)

    try:
        return web.json_response(await asyncio.to_thread(read))
    except CaseNotFoundError:
        return _error(404, f"no case {case_id}")


async def reply(request: web.Request) -> web.Response:
    body = await _body(request, Reply)
    case_id = request.match_info["case_id"]
    try:
        case = await asyncio.to_thread(request.app[FRONT].reply, case_id, principal(request).person, body.text)
    except CaseNotFoundError:
        return _error(404, f"no case {case_id}")
    request.app[WORKER].kick(case.id)
    return web.json_response(case_summary(case))


async def answer(request: web.Request) -> web.Response:
    """A choice clicked under a question: a reply by the user, taken only while the question is open."""
    body = await _body(request, Answer)
    front = request.app[FRONT]
    case_id = request.match_info["case_id"]
    try:
        case = await asyncio.to_thread(
            partial(front.answer, case_id, principal(request).person, body.choice, question=body.question)
        )
    except CaseNotFoundError:
        return _error(404, f"no case {case_id}")
    except StaleAnswerError as exc:
        return _error(409, str(exc))
    request.app[WORKER].kick(case.id)
    return web.json_response(case_summary(case))


async def take(request: web.Request) -> web.Response:
    """Take it: the person says they have the case (a handed-off case is then picked up)."""
    await _body(request, Take)
    case_id = request.match_info["case_id"]
    try:
        case = await asyncio.to_thread(request.app[FRONT].take, case_id, principal(request).person)
    except CaseNotFoundError:
        return _error(404, f"no case {case_id}")
    except NotAuthorizedError as exc:
        return _error(403, str(exc))
    return web.json_response(case_summary(case))


async def postmortem(request: web.Request) -> web.Response:
    """The case's post-mortem: JSON, or the Markdown file with ?format=md."""
    front = request.app[FRONT]
    case_id = request.match_info["case_id"]
    fmt = request.query.get("format", "json")
    if fmt not in ("json", "md"):
        return _error(400, "format must be json or md")

    def read() -> PostMortem | None:
        front.case(case_id)
        return stored_postmortem(front.audit(case_id))

    try:
        pm = await asyncio.to_thread(read)
    except CaseNotFoundError:
        return _error(404, f"no case {case_id}")
    if pm is None:
        return _error(404, f"case {case_id} has no post-mortem (one is written when an incident resolves)")
    if fmt == "md":
        headers = {"Content-Disposition": f'attachment; filename="postmortem-{case_id}.md"'}
        return web.Response(text=render_markdown(pm), content_type="text/markdown", headers=headers)
    return web.json_response(pm.model_dump(mode="json"))


async def decide(request: web.Request) -> web.Response:
    body = await _body(request, ApprovalClick)
    approval_id = request.match_info["approval_id"]
    verdict = await asyncio.to_thread(
        request.app[FRONT].decide, approval_id, principal(request).person, body.decision == "approve", body.reason
    )
    if verdict.approval is None:
        return _error(404, f"no approval {approval_id}")
    if verdict.refused is not None:
        return _error(REFUSED[verdict.refused], verdict.why)
    approval = verdict.approval
    request.app[WORKER].kick(approval.case_id)
    return web.json_response({"id": approval.id, "status": approval.status.value, "decided_by": approval.decided_by})


async def metrics_json(request: web.Request) -> web.Response:
    """The figures for the last ``days`` days (default 7) and a point a day for the charts."""
    reports, clock = request.app[REPORTS], request.app[CLOCK]
    try:
        days = float(request.query.get("days", "7"))
    except ValueError:
        return _error(400, "days must be a number")
    if not 0 < days <= 366:
        return _error(400, "days must be between 0 and 366")
    zone: tzinfo = UTC
    if "tz" in request.query:  # the viewer's time zone: the period is whole calendar days there, today included
        try:
            zone = ZoneInfo(request.query["tz"])
        except (ZoneInfoNotFoundError, ValueError):
            return _error(400, "tz must be an IANA time zone name, like Europe/Berlin")
        start, end = metrics.calendar_period(clock, days, zone)
    else:
        start, end = metrics.period(clock, days)
    infra = request.app[REPORTING].infra_cost_per_hour

    def read() -> dict[str, JsonValue]:
        return {
            "report": metrics.as_json(metrics.report(reports, start, end, infra)),
            "daily": list[JsonValue](metrics.daily(reports, start, end, infra, zone)),
            "time_zone": str(zone),
        }

    return web.json_response(await asyncio.to_thread(read))


async def prometheus(request: web.Request) -> web.Response:
    registry = request.app[REGISTRY]
    body = await asyncio.to_thread(generate_latest, registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


async def recent_changes(request: web.Request) -> web.Response:
    """The change events CI/CD reported, newest first: ``?service=NAME`` narrows, ``?limit=N`` (1-500, 100)."""
    reports = request.app[REPORTS]
    try:
        limit = int(request.query.get("limit", "100"))
    except ValueError:
        return _error(400, "limit must be a whole number")
    if not 1 <= limit <= 500:
        return _error(400, "limit must be between 1 and 500")
    service = request.query.get("service") or None
    found = await asyncio.to_thread(partial(reports.recorded_changes, service=service, limit=limit))
    return web.json_response([change_json(c) for c in reversed(found)])


async def changes(request: web.Request) -> web.StreamResponse:
    """GET /api/changes. With ``Accept: text/event-stream`` (what an EventSource sends), the live feed of case
    updates: one `data: CASE_ID` line per committed change, with a keep-alive comment. Otherwise the JSON list of
    recorded change events (deploys, config changes, flags, scaling)."""
    if "text/event-stream" not in request.headers.get("Accept", ""):
        return await recent_changes(request)
    feed = request.app[FEED]
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
    await response.prepare(request)
    answered(request, request.app[WORKER])  # open for as long as the page is: no longer a request being answered
    queue = feed.subscribe()
    try:
        while True:
            try:
                async with asyncio.timeout(15):  # (3.11's wait_for can drop a cancel)
                    case_id = await queue.get()
                if case_id == CLOSED:
                    break
                await response.write(f"data: {case_id}\n\n".encode())
            except TimeoutError:
                await response.write(b": keep-alive\n\n")
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    finally:
        feed.unsubscribe(queue)
        with contextlib.suppress(ConnectionResetError, RuntimeError):
            await response.write_eof()
    return response


def add_routes(app: web.Application) -> None:
    reporting = app[REPORTING]
    registry = CollectorRegistry(auto_describe=False)
    registry.register(
        metrics.DeskCollector(app[REPORTS], app[CLOCK], reporting.metrics_window_days, reporting.infra_cost_per_hour)
    )
    app[REGISTRY] = registry
    app.router.add_get("/", index)
    app.router.add_get("/dashboard", dashboard)
    app.router.add_get("/api/people", people)
    app.router.add_get("/api/cases", list_cases)
    app.router.add_post("/api/cases", open_case)
    # ids are what the loop makes (C-…, A-…): anything else is a 404 before it reaches a query (a NUL byte, which
    # PostgreSQL cannot hold in a string, made a 500)
    app.router.add_get("/api/cases/{case_id:" + ID + "}", get_case)
    app.router.add_post("/api/cases/{case_id:" + ID + "}/messages", reply)
    app.router.add_post("/api/cases/{case_id:" + ID + "}/take", take)
    app.router.add_get("/api/cases/{case_id:" + ID + "}/postmortem", postmortem)
    app.router.add_post("/api/approvals/{approval_id:" + ID + "}", decide)
    app.router.add_post("/api/cases/{case_id:" + ID + "}/answers", answer)
    app.router.add_get("/api/changes", changes)
    app.router.add_get("/api/metrics", metrics_json)
    app.router.add_get("/metrics", prometheus)
    app.router.add_static("/static/", STATIC)
    add_request_routes(app, FRONT, WORKER)
