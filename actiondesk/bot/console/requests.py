"""Console routes for request fulfilment: the onboarding form (every field checked before anything runs, each
problem returned next to its field), and what a stopped request offers (compensate, hand off)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from actiondesk.agents.desk import FrontDesk
from actiondesk.agents.fulfilment import HireForm
from actiondesk.bot.auth.caller import principal
from actiondesk.bot.console.views import case_summary
from actiondesk.bot.jobs.worker import CaseWorker
from actiondesk.bot.web import jsonbody
from actiondesk.core.errors import ActionError, CaseNotFoundError, InvalidRequestError


class OnboardingBody(BaseModel):
    """Who asks is the signed-in person (or the token's), never a field here."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(default="", max_length=200)
    role: str = Field(default="", max_length=100)
    start: str = Field(default="", max_length=40)
    manager: str = Field(default="", max_length=64)
    username: str = Field(default="", max_length=64)
    email: str = Field(default="", max_length=254)


class ByBody(BaseModel):
    """Compensate or hand off: nothing but who clicked, and that is the signed-in person."""

    model_config = ConfigDict(extra="forbid")


def _bad(message: str, fields: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"error": message, "fields": fields or {}}, status=400)


async def _read(request: web.Request, model: type[BaseModel]) -> BaseModel | web.Response:
    data = await jsonbody.read(request)  # 400 for a body that is not JSON or is nested too deeply
    if isinstance(data, dict) and "user" in data:
        return _bad("user: the person is whoever is signed in (or owns the token); remove it", {"user": "not allowed"})
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        fields = {".".join(str(p) for p in e["loc"]) or "body": e["msg"] for e in exc.errors()}
        return _bad("; ".join(f"{k}: {v}" for k, v in fields.items()), fields)


def add_request_routes(
    app: web.Application, front_key: web.AppKey[FrontDesk], worker_key: web.AppKey[CaseWorker]
) -> None:
    async def onboard(request: web.Request) -> web.Response:
        body = await _read(request, OnboardingBody)
        if isinstance(body, web.Response):
            return body
        assert isinstance(body, OnboardingBody)
        form = HireForm(
            name=body.name, role=body.role, start=body.start, manager=body.manager, user=body.username, email=body.email
        )
        try:
            case = await asyncio.to_thread(request.app[front_key].fulfilment.onboard, form, principal(request).person)
        except InvalidRequestError as exc:
            return _bad(str(exc), exc.fields)
        request.app[worker_key].kick(case.id)
        return web.json_response(case_summary(case), status=201)

    def on_stopped(verb: str) -> Callable[[web.Request], Awaitable[web.Response]]:
        """compensate (a new, governed case of the inverses: 201) or handoff (the case escalated: 200)."""

        async def handle(request: web.Request) -> web.Response:
            body = await _read(request, ByBody)
            if isinstance(body, web.Response):
                return body
            assert isinstance(body, ByBody)
            case_id = request.match_info["case_id"]
            front = request.app[front_key]
            act = front.compensate if verb == "compensate" else front.hand_off
            try:
                case = await asyncio.to_thread(act, case_id, principal(request).person)
            except CaseNotFoundError:
                return web.json_response({"error": f"no case {case_id}"}, status=404)
            except ActionError as exc:
                return web.json_response({"error": str(exc)}, status=409)
            if verb == "compensate":
                request.app[worker_key].kick(case.id)
                return web.json_response(case_summary(case), status=201)
            return web.json_response(case_summary(case))

        return handle

    async def roles(request: web.Request) -> web.Response:
        catalog = request.app[front_key].fulfilment.roles
        listed = [
            {"name": r.name, "title": r.title, "groups": list(r.groups), "privileged": dict(r.privileged),
             "hardware": [h.model_dump() for h in r.hardware], "licences": list(r.licences)}
            for r in catalog.roles.values()
        ]  # fmt: skip
        return web.json_response(listed)

    app.router.add_get("/api/roles", roles)
    app.router.add_post("/api/requests/onboarding", onboard)
    app.router.add_post("/api/cases/{case_id}/compensate", on_stopped("compensate"))
    app.router.add_post("/api/cases/{case_id}/handoff", on_stopped("handoff"))
