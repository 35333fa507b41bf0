"""One model per audit kind: what an entry's payload holds, written and read through it.

``PAYLOADS`` maps each ``AuditKind`` to its model; the kind lives on the entry, not inside the payload, so the
union is keyed by the entry's kind (``parse``) rather than by a tag in the JSON. The stored JSON keeps its shape:

- ``dump()`` writes exactly the fields a writer set (``exclude_unset``), so a key a writer leaves out stays out
  and the hash chain and ``audit export`` of existing entries are unchanged;
- every field has a default, so rows written before a field existed still parse;
- unknown keys are kept (``extra="allow"``) and written back as they came, so old databases verify unchanged.

Payloads that are the JSON of a core model (a finding, a plan, an approval, a decision) declare the fields their
readers use and carry the rest as extra keys; build them with ``of`` from the model.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol, TypeVar

from pydantic import JsonValue

from actiondesk.core.audit import AuditKind
from actiondesk.core.audit_payloads.base import Number, Payload
from actiondesk.core.audit_payloads.case import (
    ActionResult,
    ActionStarted,
    ApprovalNoted,
    ApprovalRequested,
    CaseEscalated,
    CaseFailed,
    CaseOpened,
    CaseResolved,
    CaseStopped,
    DecisionNoted,
    FindingNoted,
    InjectionSuspected,
    Message,
    Observation,
    PlanNoted,
    SettingChanged,
    Thought,
    Verification,
)
from actiondesk.core.audit_payloads.desk import (
    AccessRefused,
    ActedAlone,
    ChangeRecorded,
    HandedOff,
    Page,
    PickedUp,
    Postmortem,
    PostmortemSummary,
    SignedIn,
    TokenCreated,
    TokenRevoked,
)

PAYLOADS: Mapping[AuditKind, type[Payload]] = {
    model.kind: model
    for model in (
        CaseOpened,
        Message,
        Thought,
        FindingNoted,
        PlanNoted,
        DecisionNoted,
        ApprovalRequested,
        ApprovalNoted,
        ActionStarted,
        ActionResult,
        Observation,
        Verification,
        CaseResolved,
        CaseEscalated,
        CaseFailed,
        InjectionSuspected,
        SettingChanged,
        SignedIn,
        AccessRefused,
        TokenCreated,
        TokenRevoked,
        HandedOff,
        Page,
        PickedUp,
        ActedAlone,
        Postmortem,
        PostmortemSummary,
        ChangeRecorded,
    )
}

P = TypeVar("P", bound=Payload)


class Entry(Protocol):
    """An audit entry, stored or about to be (``AuditEntry`` and ``AuditDraft`` both are)."""

    @property
    def kind(self) -> AuditKind: ...

    @property
    def payload(self) -> dict[str, JsonValue]: ...


def parse(entry: Entry) -> Payload:
    """The entry's payload as the model of its kind."""
    return PAYLOADS[entry.kind].model_validate(entry.payload)


def read(entry: Entry, model: type[P]) -> P:
    """The entry's payload as ``model``, which must be the model of the entry's kind."""
    if model.kind is not entry.kind:
        raise ValueError(f"a {entry.kind.value} entry does not hold a {model.__name__}")
    return model.model_validate(entry.payload)


__all__ = [
    "PAYLOADS",
    "AccessRefused",
    "ActedAlone",
    "ActionResult",
    "ActionStarted",
    "ApprovalNoted",
    "ApprovalRequested",
    "CaseEscalated",
    "CaseFailed",
    "CaseOpened",
    "CaseResolved",
    "CaseStopped",
    "ChangeRecorded",
    "DecisionNoted",
    "Entry",
    "FindingNoted",
    "HandedOff",
    "InjectionSuspected",
    "Message",
    "Number",
    "Observation",
    "Page",
    "Payload",
    "PickedUp",
    "PlanNoted",
    "Postmortem",
    "PostmortemSummary",
    "SettingChanged",
    "SignedIn",
    "Thought",
    "TokenCreated",
    "TokenRevoked",
    "Verification",
    "parse",
    "read",
]
