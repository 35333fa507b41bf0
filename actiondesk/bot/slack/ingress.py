"""What ``/slack/events`` checks before Bolt sees a request, so that every bad request is a 4xx.

Bolt's own verifier turns a non-numeric timestamp (``int()``) or a non-ASCII signature (``compare_digest``)
into a 500, and its body parser does the same for a signed body that is not the JSON or form it claims (or one
nested deeply enough to exhaust recursion). Here: malformed or missing headers are 401 like a bad signature; a
correctly signed body that does not parse is 400. This is the only check of the signature: Bolt's own is off
(mount.py), and no request reaches Bolt any other way (Socket Mode's come over its authenticated connection).

A JSON body that opens an object and has no more brackets than MAX_DEPTH (an event, the hot path) is parsed
once, by Bolt: ``plain_object`` says so, and the caller turns Bolt's ValueError into the same 400.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs

from slack_sdk.signature import SignatureVerifier

from actiondesk.bot.web import jsonbody

TIMESTAMP = re.compile(r"^[0-9]{1,12}$")
SIGNATURE = re.compile(r"^v0=[0-9a-f]{64}$")


class Refusal(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def check(
    verifier: SignatureVerifier, raw: bytes, timestamp: str | None, signature: str | None, content_type: str
) -> None:
    """Raise Refusal(401) unless the headers are well formed and the signature verifies; Refusal(400) unless the
    signed body is the JSON object or form it claims to be."""
    if timestamp is None or signature is None:
        raise Refusal(401, "missing signature headers")
    if not TIMESTAMP.match(timestamp) or not SIGNATURE.match(signature):
        raise Refusal(401, "malformed signature headers")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is None or not verifier.is_valid(text, timestamp, signature):
        raise Refusal(401, "bad signature or stale timestamp")
    if content_type == "application/json":
        if not plain_object(raw):
            _json_object(raw)
    elif content_type == "application/x-www-form-urlencoded":
        try:
            form = parse_qs(text, keep_blank_values=True, strict_parsing=bool(text), max_num_fields=200)
        except ValueError:
            raise Refusal(400, "the signed body is not the form it claims to be") from None
        if "payload" in form:
            _json_object(form["payload"][0].encode())
    else:
        raise Refusal(400, f"unexpected content type {content_type or 'none'}")


def plain_object(raw: bytes) -> bool:
    """Whether Bolt may parse this JSON body itself: it opens an object and cannot nest deeper than MAX_DEPTH.
    Should it not be JSON after all, Bolt's parser raises ValueError."""
    return raw.lstrip()[:1] == b"{" and jsonbody.shallow(raw)


def _json_object(raw: bytes) -> None:
    try:
        value = jsonbody.parse(raw)
    except Exception:  # noqa: BLE001 - jsonbody's 400 (HTTPBadRequest): one refusal here
        raise Refusal(400, "the signed body is not the JSON it claims to be") from None
    if not isinstance(value, dict):
        raise Refusal(400, "the signed body is not a JSON object")
