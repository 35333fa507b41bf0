"""The authenticated caller of a request, as the guard found it. Handlers take the person from here."""

from __future__ import annotations

import json

from aiohttp import web

from actiondesk.core.access import Principal

PRINCIPAL = web.RequestKey("principal", Principal)


def principal(request: web.Request) -> Principal:
    """The principal the guard authenticated; 401 when the route was not guarded (a wiring mistake)."""
    found = request.get(PRINCIPAL)  # absent when the guard did not run
    if not isinstance(found, Principal):
        raise web.HTTPUnauthorized(text=json.dumps({"error": "not signed in"}), content_type="application/json")
    return found
