"""The guard every request passes: who is calling, may they, and from where; plus the security headers.

- ``/api/*`` (but ``/api/alerts``, ``/api/messages`` and ``POST /api/changes``, which check their own
  credentials) needs a principal:
  an API token (``Authorization: Bearer adt_…``) or a console session cookie. Reads need ``cases:read``; writes
  ``cases:write``, deciding an approval ``approve`` (routes may name another scope in ROUTE_SCOPES). No
  principal is 401, a missing scope 403. A route added later is covered by the same rules.
- Writes carry JSON only (``application/json``, else 415).
- A write authenticated by the cookie (and any ``/auth/*`` write) must come from the console's own origin
  (``Origin`` equal to ACTIONDESK_PUBLIC_URL's, or in the demo to the loopback host it was served from).
- In the demo the console answers only requests addressed to a loopback host name (DNS rebinding).
- With an issuer, the pages redirect to sign-in when there is no session.
- Refusals are audited through ``RefusalLog``; every response gets CSP, ``X-Frame-Options: DENY``,
  ``X-Content-Type-Options: nosniff`` and ``Referrer-Policy``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from urllib.parse import quote, urlsplit

from aiohttp import web
from aiohttp.typedefs import Middleware

from actiondesk.bot.auth import sessions, tokens
from actiondesk.bot.auth.caller import PRINCIPAL
from actiondesk.bot.auth.config import AccessConfig, Mode
from actiondesk.bot.auth.refusals import RefusalLog
from actiondesk.bot.teams.config import is_loopback
from actiondesk.bot.web.serverkeys import RUNTIME
from actiondesk.core.access import Principal, Scope, Via
from actiondesk.core.recent import Recent

ACCESS = web.AppKey("access", AccessConfig)
REFUSALS = web.AppKey("refusals", RefusalLog)

SELF_AUTHENTICATED = frozenset({"/api/alerts", "/api/messages"})  # Alertmanager's token; Bot Framework JWTs
# (method, path) of the routes that check a credential of their own on that method only: CI/CD posts change
# events with ACTIONDESK_CHANGES_TOKEN (a session cookie or an API token gets nothing there), while reading
# them (GET /api/changes) stays behind the sign-in like the rest of the API.
SELF_AUTHENTICATED_ROUTES = frozenset({("POST", "/api/changes")})
# A credential's person is looked up in the directory at most once in this long: a person the directory drops is
# refused from then on, the credential itself (revoked, expired) at every request.
LISTED_SECONDS = 30.0
LISTED_KEPT = 10_000  # people remembered as listed, the least recently seen forgotten first
PAGES = frozenset({"/", "/dashboard"})
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# (method, route) → the scope it needs, where the default (reads cases:read, writes cases:write) is not it.
ROUTE_SCOPES: dict[tuple[str, str], Scope] = {("POST", "/api/approvals/{approval_id}"): Scope.APPROVE}

CSP = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def required_scope(method: str, route: str) -> Scope:
    if (method, route) in ROUTE_SCOPES:
        return ROUTE_SCOPES[(method, route)]
    return Scope.CASES_READ if method not in WRITES else Scope.CASES_WRITE


def _route(request: web.Request) -> str:
    info = request.match_info.route.resource
    return info.canonical if info is not None else request.path


def _json(status: int, message: str, **headers: str) -> web.Response:
    return web.json_response({"error": message}, status=status, headers=headers or None)


def _host_is_loopback(request: web.Request) -> bool:
    return is_loopback(urlsplit("//" + request.host).hostname)


def own_origin(request: web.Request, config: AccessConfig) -> str:
    if config.mode is Mode.OIDC and config.origin:
        return config.origin
    return f"{request.scheme}://{request.host}".lower()


def same_origin(request: web.Request, config: AccessConfig) -> bool:
    origin = request.headers.get("Origin")
    if origin is None:
        return request.headers.get("Sec-Fetch-Site") == "same-origin"
    return origin.lower() == own_origin(request, config)


class Guard:
    def __init__(self, config: AccessConfig, refusals: RefusalLog) -> None:
        self.config = config
        self.refusals = refusals
        # person -> when the directory last listed them (monotonic): asked again after LISTED_SECONDS
        self._listed: Recent[str, float] = Recent(LISTED_KEPT)

    async def _refuse(
        self, request: web.Request, status: int, reason: str, actor: str = "anonymous", **headers: str
    ) -> web.Response:
        await self.refusals.note(request.remote or "unknown", actor, request.method, request.path, status, reason)
        return _json(status, reason, **headers)

    async def authenticate(self, request: web.Request) -> tuple[Principal | None, str | None]:
        """(the principal, None) or (None, why not). A bearer token, when sent, is the only credential read.

        The credential and its person's entry in the directory are read in one call off the event loop: both are
        lookups (the database; LDAP or SCIM behind the directory) that must not hold up the other requests. The
        directory is asked again about a person only LISTED_SECONDS after it last listed them."""
        runtime = request.app[RUNTIME]
        now = runtime.clock.now()
        access = runtime.store.access
        directory = runtime.directory
        asked: list[str] = []  # the person the directory was asked about (and listed), in the call below

        def listed(found: Principal) -> tuple[Principal | None, str | None]:
            if self._still_listed(found.person):
                return found, None
            if directory.person(found.person) is None:
                return None, f"{found.person} is no longer in the directory"
            asked.append(found.person)
            return found, None

        header = request.headers.get("Authorization")
        if header is not None:
            scheme, _, value = header.partition(" ")
            if scheme.lower() != "bearer" or not value.strip():
                return None, "the Authorization header must be Bearer <token>"
            token = value.strip()

            def check() -> tuple[Principal | None, str | None]:
                found = tokens.authenticate(access, token, now)
                if found is None:
                    return None, "the API token is unknown, revoked or expired"
                return listed(found)

        else:
            cookie = request.cookies.get(sessions.COOKIE, "")
            if not cookie:
                return None, "sign in, or send an API token (Authorization: Bearer)"

            def check() -> tuple[Principal | None, str | None]:
                found = sessions.principal(access, cookie, now)
                if found is None:
                    return None, "the session expired or was signed out: sign in again"
                return listed(found)

        answer = await asyncio.to_thread(check)
        for person in asked:  # noted here, on the event loop: the threads only read the notes
            self._seen_listed(person)
        return answer

    def _still_listed(self, person: str) -> bool:
        """Whether the directory listed ``person`` less than LISTED_SECONDS ago (a leaver is refused at most that
        long after the directory drops them; the credential itself is checked at every request)."""
        at = self._listed.get(person)
        return at is not None and time.monotonic() - at < LISTED_SECONDS

    def _seen_listed(self, person: str) -> None:
        self._listed.put(person, time.monotonic())

    def middleware(self) -> Middleware:
        @web.middleware
        async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
            return await self.check(request, handler)

        return guard

    async def check(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        path = request.path
        own = path in SELF_AUTHENTICATED or (request.method, path) in SELF_AUTHENTICATED_ROUTES
        api = path.startswith("/api/") and not own
        console = api or path in PAGES or path.startswith("/auth/")
        if console and self.config.mode is Mode.DEMO and not _host_is_loopback(request):
            return await self._refuse(request, 421, "the demo console answers only on a loopback host name")
        json_route = api or own or path.startswith("/auth/")
        if request.method in WRITES and json_route and request.content_type != "application/json":
            return _json(415, "send the body as application/json")
        if path.startswith("/auth/") and request.method in WRITES and not same_origin(request, self.config):
            return await self._refuse(request, 403, "cross-origin request refused")
        if path in PAGES and self.config.mode is Mode.OIDC:
            found, _ = await self.authenticate(request)
            if found is None or found.via is Via.TOKEN:
                raise web.HTTPFound(f"/auth/login?next={quote(path)}")
            return await handler(request)
        if not api:
            return await handler(request)
        found, why = await self.authenticate(request)
        if found is None:
            assert why is not None
            return await self._refuse(request, 401, why, **{"WWW-Authenticate": 'Bearer realm="actiondesk"'})
        scope = required_scope(request.method, _route(request))
        if not found.may(scope):
            return await self._refuse(request, 403, f"this credential lacks the {scope.value} scope", found.person)
        if request.method in WRITES and found.via is not Via.TOKEN and not same_origin(request, self.config):
            return await self._refuse(request, 403, "cross-origin request refused", found.person)
        request[PRINCIPAL] = found
        return await handler(request)


async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: every response, files, errors and event streams included."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "no-referrer")
    if request.path.startswith(("/api/", "/auth/")):
        headers.setdefault("Cache-Control", "no-store")
    config = request.app.get(ACCESS)
    if config is not None and config.public_url.startswith("https://"):
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
