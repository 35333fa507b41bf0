"""Sign-in routes: ``/auth/login`` → the issuer → ``/auth/callback``; ``/auth/logout``; the demo's
``/auth/demo``; ``/auth/config`` (how this console signs people in) and ``/api/me`` (who you are)."""

from __future__ import annotations

import asyncio
import hmac
import html
import logging

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from actiondesk.bot.auth import sessions
from actiondesk.bot.auth.caller import principal
from actiondesk.bot.auth.config import AccessConfig, Mode
from actiondesk.bot.auth.guard import ACCESS, REFUSALS, Guard, security_headers
from actiondesk.bot.auth.oidc import IssuerUnavailableError, OidcSignIn, SignInError
from actiondesk.bot.auth.refusals import RefusalLog
from actiondesk.bot.web import jsonbody
from actiondesk.bot.web.serverkeys import RUNTIME
from actiondesk.core.access import Via, digest
from actiondesk.core.audit_payloads import Payload, SignedIn

log = logging.getLogger(__name__)

SIGN_IN = web.AppKey("oidc", OidcSignIn)
UNREACHABLE = "The identity provider cannot be reached. Try again shortly."


class DemoSignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    person: str = Field(min_length=1, max_length=64)


def _page(status: int, title: str, text: str, link: tuple[str, str] | None = None) -> web.Response:
    more = f'<p><a href="{html.escape(link[0])}">{html.escape(link[1])}</a></p>' if link else ""
    body = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>ActionDesk</title>'
        '<link rel="stylesheet" href="/static/app.css"></head><body class="plain-page">'
        f"<main><h1>{html.escape(title)}</h1><p>{html.escape(text)}</p>{more}</main></body></html>"
    )
    return web.Response(status=status, text=body, content_type="text/html")


def _local(path: str | None) -> str:
    """Only a path on this server may follow sign-in (no open redirect)."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/"
    return path


async def _audit(request: web.Request, actor: str, payload: Payload) -> None:
    runtime = request.app[RUNTIME]
    draft = payload.draft(None, actor, runtime.clock.now())

    def write() -> None:
        with runtime.store.transaction() as uow:
            uow.append_audit(draft)

    await asyncio.to_thread(write)


async def _start_session(request: web.Request, person: str, email: str | None, via: Via) -> web.Response:
    runtime, config = request.app[RUNTIME], request.app[ACCESS]
    access = runtime.store.access
    old = request.cookies.get(sessions.COOKIE)
    if old:
        await asyncio.to_thread(access.end_session, digest(old))
    session_id = await asyncio.to_thread(
        sessions.start, access, person, email, via, runtime.clock.now(), config.session_hours
    )
    await _audit(request, person, SignedIn(via=via.value, email=email or "", client=request.remote or ""))
    response = web.json_response({"person": person, "via": via.value})
    sessions.set_cookie(response, sessions.COOKIE, session_id, int(config.session_hours * 3600))
    return response


async def auth_config(request: web.Request) -> web.Response:
    config = request.app[ACCESS]
    body: dict[str, object] = {"mode": config.mode.value}
    if config.mode is Mode.DEMO:  # the demo lets anyone on this machine pick who they are: it lists the people
        people = request.app[RUNTIME].directory.people()
        body["people"] = [{"name": p.name, "groups": sorted(p.groups)} for p in people]
    return web.json_response(body)


async def me(request: web.Request) -> web.Response:
    who = principal(request)
    person = request.app[RUNTIME].directory.person(who.person)
    return web.json_response(
        {
            "person": who.person,
            "groups": sorted(person.groups) if person else [],
            "via": who.via.value,
            "scopes": sorted(s.value for s in who.scopes),
            "mode": request.app[ACCESS].mode.value,
        }
    )


async def demo_sign_in(request: web.Request) -> web.Response:
    if request.app[ACCESS].mode is not Mode.DEMO:
        raise web.HTTPNotFound()
    try:
        body = DemoSignIn.model_validate(await jsonbody.read(request))
    except ValidationError:
        return web.json_response({"error": 'send {"person": NAME}'}, status=400)
    if request.app[RUNTIME].directory.person(body.person) is None:
        return web.json_response({"error": f"{body.person} is not in the directory"}, status=404)
    return await _start_session(request, body.person, None, Via.DEMO)


async def login(request: web.Request) -> web.StreamResponse:
    if request.app[ACCESS].mode is not Mode.OIDC:
        raise web.HTTPFound("/")
    try:
        url, state = await request.app[SIGN_IN].begin(
            _local(request.query.get("next")), request.app[RUNTIME].clock.now()
        )
    except IssuerUnavailableError as exc:
        log.error("oidc: %s", exc)
        return _page(503, "Sign-in is unavailable", UNREACHABLE)
    except SignInError as exc:
        log.error("oidc: %s", exc)
        return _page(503, "Sign-in is misconfigured", str(exc))
    response = web.HTTPFound(url)
    sessions.set_cookie(response, sessions.LOGIN_COOKIE, state, sessions.LOGIN_MINUTES * 60)
    raise response


async def callback(request: web.Request) -> web.StreamResponse:
    if request.app[ACCESS].mode is not Mode.OIDC:
        raise web.HTTPNotFound()
    again = ("/auth/login", "Sign in again")
    if "error" in request.query:
        return _page(401, "Sign-in was refused", f"The identity provider said: {request.query['error'][:200]}", again)
    code, state = request.query.get("code", ""), request.query.get("state", "")
    bound = request.cookies.get(sessions.LOGIN_COOKIE, "")
    if not code or not state or not bound or not hmac.compare_digest(bound.encode(), state.encode()):
        return _page(400, "Sign-in could not complete", "This sign-in did not start in this browser.", again)
    runtime = request.app[RUNTIME]
    try:
        identity, next_path = await request.app[SIGN_IN].finish(code, state, runtime.clock.now())
    except IssuerUnavailableError as exc:
        log.error("oidc: %s", exc)
        return _page(
            503, "Sign-in is unavailable", "The identity provider cannot be reached. Try again shortly.", again
        )
    except SignInError as exc:
        return _page(401, "Sign-in could not complete", str(exc), again)
    person = runtime.directory.find_person(email=identity.email)
    if person is None:
        await request.app[REFUSALS].note(
            request.remote or "unknown", identity.email, "GET", request.path, 403, "signed in, but not in the directory"
        )
        return _page(
            403, "Not in the directory", f"{identity.email} signed in, but ActionDesk's directory has no such person."
        )
    signed = await _start_session(request, person.name, identity.email, Via.SESSION)
    response = web.HTTPFound(_local(next_path))
    for name, morsel in signed.cookies.items():
        response.cookies[name] = morsel
    sessions.clear_cookie(response, sessions.LOGIN_COOKIE)
    raise response


async def logout(request: web.Request) -> web.Response:
    cookie = request.cookies.get(sessions.COOKIE)
    if cookie:
        await asyncio.to_thread(request.app[RUNTIME].store.access.end_session, digest(cookie))
    response = web.json_response({"signed_out": True})
    sessions.clear_cookie(response, sessions.COOKIE)
    return response


async def signed_out(request: web.Request) -> web.Response:
    return _page(200, "Signed out", "You are signed out of ActionDesk.", ("/auth/login", "Sign in again"))


def add_auth(app: web.Application, config: AccessConfig) -> None:
    """The guard (middleware), the security headers and the sign-in routes."""
    runtime = app[RUNTIME]
    app[ACCESS] = config
    app[REFUSALS] = RefusalLog(runtime.store, runtime.clock)
    app.middlewares.append(Guard(config, app[REFUSALS]).middleware())
    app.on_response_prepare.append(security_headers)
    app.router.add_get("/auth/config", auth_config)
    app.router.add_get("/auth/login", login)
    app.router.add_get("/auth/callback", callback)
    app.router.add_post("/auth/logout", logout)
    app.router.add_get("/auth/signed-out", signed_out)
    app.router.add_post("/auth/demo", demo_sign_in)
    app.router.add_get("/api/me", me)
    if config.mode is Mode.OIDC:
        app[SIGN_IN] = OidcSignIn(config, runtime.store.access)

        async def discover(app: web.Application) -> None:
            try:
                await app[SIGN_IN].discover()
                log.info("oidc: signing people in through %s", config.issuer)
            except SignInError as exc:  # the API still serves tokens; sign-in says it is unavailable until then
                log.error("oidc: %s", exc)

        app.on_startup.append(discover)
