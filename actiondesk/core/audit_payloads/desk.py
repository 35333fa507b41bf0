"""The payloads of the people around the cases: sign-in and tokens, refusals, hand-offs, pages and pick-ups,
actions that ran alone, post-mortems, and change events received."""

from __future__ import annotations

from pydantic import Field, JsonValue

from actiondesk.core.audit import AuditKind
from actiondesk.core.audit_payloads.base import Number, Payload
from actiondesk.core.catalog import ChangeEvent


class SignedIn(Payload):
    kind = AuditKind.SIGNED_IN
    via: str = ""  # how: oidc, demo...
    email: str = ""
    client: str = ""  # the client's address


class AccessRefused(Payload):
    kind = AuditKind.ACCESS_REFUSED
    client: str = ""
    method: str = ""
    path: str = ""
    status: int = 0
    reason: str = ""
    suppressed: int = 0  # refusals from this client left out of the trail since the last one written


class TokenCreated(Payload):
    kind = AuditKind.TOKEN_CREATED
    token: str = ""  # the token's id (never its secret)
    scopes: list[str] = []


class TokenRevoked(Payload):
    kind = AuditKind.TOKEN_REVOKED
    token: str = ""


class HandedOff(Payload):
    kind = AuditKind.HANDED_OFF
    reason: str = ""
    team: str | None = None
    group: str | None = None
    source: str | None = None  # where the owner came from (``service:X``, ``staple:K``, ``default``...)
    people: list[str] = []
    assignment_group: str | None = None
    paged: list[str] = []
    mention: bool | None = None  # the thread line mentions the group (no pager was used)


class Page(Payload):
    """A page trigger or resolution; ``page`` is the ``core.paging.PageDraft`` as JSON."""

    kind = AuditKind.PAGE
    action: str = ""
    dedup_key: str | None = None
    systems: list[str] = []
    page: dict[str, JsonValue] = {}


class PickedUp(Payload):
    kind = AuditKind.PICKED_UP
    by: str = ""
    how: str = ""
    handed_off_at: str | None = None
    after_seconds: Number | None = None
    team: str | None = None
    group: str | None = None


class ActedAlone(Payload):
    """An action ran without approval (levels 2-3), announced to its owner."""

    kind = AuditKind.ACTED_ALONE
    step: int | None = None
    action: str = ""
    params: dict[str, JsonValue] = {}
    run_key: str | None = None
    status: str = ""
    error: str | None = None
    level: int | None = None
    confidence: Number | None = None
    threshold: Number | None = None
    policy_ids: list[str] = []
    reasons: list[str] = []
    service: str | None = None
    title: str | None = None
    team: str | None = None
    group: str | None = None


class Postmortem(Payload):
    """The post-mortem document as JSON (``agents.postmortem.model``)."""

    kind = AuditKind.POSTMORTEM
    summary: str = ""


class PostmortemSummary(Payload):
    """The LLM's paragraph for a post-mortem (``postmortem_seq``: the post-mortem entry it summarises)."""

    kind = AuditKind.POSTMORTEM_SUMMARY
    text: str = ""
    model: str | None = None
    tokens: int | None = None
    postmortem_seq: int | None = None


class ChangeRecorded(Payload):
    """A ``core.catalog.ChangeEvent`` received: every field that is set, the time as ISO 8601 (``of_event``)."""

    kind = AuditKind.CHANGE_RECORDED
    change: str = ""  # the event's id
    service: str = ""
    change_kind: str = Field("", validation_alias="kind", serialization_alias="kind")  # deploy, flag, ...
    at: str = ""
    source: str = ""
    version: str | None = None
    previous_version: str | None = None
    commit: str | None = None
    key: str | None = None
    value: str | None = None
    previous_value: str | None = None
    replicas: int | None = None
    previous_replicas: int | None = None
    author: str | None = None
    url: str | None = None

    @classmethod
    def of_event(cls, event: ChangeEvent) -> ChangeRecorded:
        """The entry for ``event``: its optional fields only when they are set (author and url when not empty)."""
        written: dict[str, JsonValue] = {
            "change": event.id,
            "service": event.service,
            "kind": event.kind,
            "at": event.at.isoformat(),
            "source": event.source,
        }
        for name in ("version", "previous_version", "commit", "key", "value", "previous_value"):
            if (text := getattr(event, name)) is not None:
                written[name] = text
        for name in ("replicas", "previous_replicas"):
            if (count := getattr(event, name)) is not None:
                written[name] = count
        for name in ("author", "url"):
            if text := getattr(event, name):
                written[name] = text
        return cls.model_validate(written)
