"""Reading a JSON request body without letting its shape hurt the server.

``json.loads`` recurses once per nesting level: 100,000 ``[`` raises RecursionError, which every handler
used to turn into a 500. Here such a body, one nested deeper than MAX_DEPTH, or bytes that are not JSON at
all are a 400 with a clear message.
"""

from __future__ import annotations

import json

from aiohttp import web
from pydantic import JsonValue

MAX_DEPTH = 64


def _refuse(message: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(text=json.dumps({"error": message}), content_type="application/json")


def depth(value: JsonValue) -> int:
    """Nesting depth of a parsed JSON value (a scalar is 0), computed without recursion."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            stack.extend((v, level + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, level + 1) for v in item)
        else:
            continue
        deepest = max(deepest, level + 1)
    return deepest


def shallow(raw: bytes, max_depth: int = MAX_DEPTH) -> bool:
    """Whether ``raw`` cannot nest deeper than ``max_depth``: each level opens with a bracket, so a body with no
    more brackets than that (a Slack event, most API bodies) need not be walked."""
    return raw.count(b"[") + raw.count(b"{") <= max_depth


def parse(raw: bytes, max_depth: int = MAX_DEPTH) -> JsonValue:
    """The JSON value in ``raw``; raise HTTPBadRequest (400) when it is not JSON or nested too deeply."""
    try:
        value: JsonValue = json.loads(raw)
    except RecursionError:
        raise _refuse(f"body is nested too deeply (at most {max_depth} levels)") from None
    except ValueError:  # JSONDecodeError and UnicodeDecodeError both derive from it
        raise _refuse("body is not JSON") from None
    if not shallow(raw, max_depth) and depth(value) > max_depth:
        raise _refuse(f"body is nested too deeply (at most {max_depth} levels)")
    return value


async def read(request: web.Request, max_depth: int = MAX_DEPTH) -> JsonValue:
    return parse(await request.read(), max_depth)
