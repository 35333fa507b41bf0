"""The audit trail's vocabulary and its hash chain.

Each entry's hash is SHA-256 over the canonical JSON of its content and the previous entry's hash, so any
edit, deletion or reordering breaks the chain from that entry on.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from json.encoder import encode_basestring
from typing import NamedTuple

from pydantic import BaseModel, ConfigDict, JsonValue

GENESIS = "0" * 64


def texts(value: JsonValue) -> list[str]:
    """The items of a payload's list field as text (an absent or non-list field reads as no items)."""
    return [str(item) for item in value] if isinstance(value, list) else []


class AuditKind(StrEnum):
    CASE_OPENED = "case_opened"
    MESSAGE = "message"
    THOUGHT = "thought"
    FINDING = "finding"
    PLAN = "plan"
    DECISION = "decision"
    APPROVAL_REQUESTED = "approval_requested"
    APPROVAL = "approval"
    ACTION_STARTED = "action_started"
    ACTION_RESULT = "action_result"
    OBSERVATION = "observation"
    VERIFICATION = "verification"
    CASE_RESOLVED = "case_resolved"
    CASE_ESCALATED = "case_escalated"
    CASE_FAILED = "case_failed"
    INJECTION_SUSPECTED = "injection_suspected"
    SETTING_CHANGED = "setting_changed"
    # who may use the console and its API (issue 13)
    SIGNED_IN = "signed_in"
    ACCESS_REFUSED = "access_refused"
    TOKEN_CREATED = "token_created"  # noqa: S105 - an entry kind, not a secret
    TOKEN_REVOKED = "token_revoked"  # noqa: S105 - an entry kind, not a secret
    # when a person takes over (issue 18)
    HANDED_OFF = "handed_off"  # who has the case now that people must look (owner team, group, page)
    PAGE = "page"  # a page triggered or resolved through the outbox (PagerDuty, Opsgenie)
    PICKED_UP = "picked_up"  # the first thing a person did on the case after it was handed off
    ACTED_ALONE = "acted_alone"  # an action ran without approval (levels 2-3): announced to its owner
    POSTMORTEM = "postmortem"  # the post-mortem, built from the stored facts when an incident resolves
    POSTMORTEM_SUMMARY = "postmortem_summary"  # a model-written summary paragraph, when a model is configured
    # the live estate (issue 15)
    CHANGE_RECORDED = "change_recorded"  # a change event CI/CD, GitHub or Argo CD reported, stored


class AuditDraft(BaseModel):
    """An entry before the ledger gives it a place in the chain."""

    model_config = ConfigDict(frozen=True)

    kind: AuditKind
    case_id: str | None
    actor: str
    at: datetime
    payload: dict[str, JsonValue]


class AuditEntry(BaseModel):
    model_config = ConfigDict(frozen=True)

    seq: int
    kind: AuditKind
    case_id: str | None
    actor: str
    at: datetime
    payload: dict[str, JsonValue]
    prev_hash: str
    hash: str


def _reject_nan(value: float) -> float:
    if math.isnan(value) or math.isinf(value):
        raise ValueError("audit payloads may not hold NaN or infinity")
    return value


def canonical_json(value: JsonValue) -> str:
    """Serialise with sorted keys, no spaces, UTF-8 text; NaN and infinity refused."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def timestamp(at: datetime) -> str:
    """UTC, microsecond precision, ``Z`` suffix: one spelling of each instant."""
    if at.tzinfo is not None and at.utcoffset():
        at = at.astimezone(UTC)
    return at.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def entry_hash(
    seq: int, kind: str, case_id: str | None, actor: str, at: datetime | str, payload_json: str, prev_hash: str
) -> str:
    """SHA-256 over the canonical JSON of the entry, ``payload_json`` spliced in exactly as stored.

    The body is ``canonical_json({"actor", "at", "case_id", "kind", "payload", "prev_hash", "seq"})``, built by
    concatenation so that verifying does not parse and re-serialise every payload.
    """
    text = encode_basestring
    case = "null" if case_id is None else text(case_id)
    stamp = at if isinstance(at, str) else timestamp(at)
    body = (
        f'{{"actor":{text(actor)},"at":"{stamp}","case_id":{case},"kind":{text(kind)},'
        f'"payload":{payload_json},"prev_hash":{text(prev_hash)},"seq":{int(seq)}}}'
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


class StoredRow(NamedTuple):
    """An audit row as read back from storage, payload still as its stored text.

    ``at`` may be text when the store keeps times as text: naive UTC, ``YYYY-MM-DD HH:MM:SS.ffffff`` (any one
    character between date and time). Verifying then needs no date parsing, only two slices.
    """

    seq: int
    kind: str
    case_id: str | None
    actor: str
    at: datetime | str
    payload_json: str
    prev_hash: str
    hash: str


@dataclass(frozen=True, slots=True)
class VerifyReport:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    problem: str | None = None
    head_hash: str = GENESIS


def verify_chain(
    rows: Iterable[StoredRow] | Iterable[tuple[int, str, str | None, str, datetime | str, str, str, str]],
    expected_head: tuple[int, str] | None = None,
    checkpoints: Mapping[int, str] | None = None,
) -> VerifyReport:
    """Walk the rows in ``seq`` order; name the first entry that breaks the chain.

    ``rows`` are StoredRows or plain tuples in the same order (a database cursor's rows). ``expected_head`` is
    the (seq, hash) the store recorded for the chain's head; truncation of the tail is caught against it.
    ``checkpoints`` maps seq to the hash a signed checkpoint published for that entry: a chain rewritten from an
    edit onwards (head included) still differs from what was published.

    The loop is ``entry_hash`` inlined: per entry one string built around the stored payload text, one SHA-256.
    """
    checkpoints = checkpoints or {}
    published = checkpoints.get
    check_published = bool(checkpoints)
    sha256 = hashlib.sha256
    text = encode_basestring
    names: dict[tuple[str, str | None, str], tuple[str, str, str]] = {}  # (actor, case, kind) as JSON text
    prev_hash = GENESIS
    expected_seq = 1
    for seq, kind, case_id, actor, at, payload_json, stored_prev, digest in rows:
        if seq != expected_seq:
            problem = f"entry {expected_seq} is missing (next stored entry is {seq})"
            if seq < expected_seq:
                problem = f"entry {seq} is out of order"
            return VerifyReport(False, expected_seq - 1, expected_seq, problem, prev_hash)
        if stored_prev != prev_hash:
            return VerifyReport(False, seq - 1, seq, "previous-hash link does not match", prev_hash)
        quoted = names.get((actor, case_id, kind))
        if quoted is None:
            if len(names) > 65_536:
                names.clear()
            quoted = names[actor, case_id, kind] = (
                text(actor),
                "null" if case_id is None else text(case_id),
                text(kind),
            )
        # a stored text time is 'YYYY-MM-DD?HH:MM:SS.ffffff' (UTC): canonical once the separator is a T and a Z
        # follows; any other text hashes to something else, which is what an edit should do
        stamp = f"{at[:10]}T{at[11:]}Z" if isinstance(at, str) else timestamp(at)
        body = (
            f'{{"actor":{quoted[0]},"at":"{stamp}","case_id":{quoted[1]},"kind":{quoted[2]},'
            f'"payload":{payload_json},"prev_hash":"{prev_hash}","seq":{seq}}}'
        )
        if sha256(body.encode()).hexdigest() != digest:
            return VerifyReport(False, seq - 1, seq, "content does not match its hash", prev_hash)
        if check_published and published(seq, digest) != digest:
            return VerifyReport(
                False,
                seq - 1,
                seq,
                "entry differs from its signed checkpoint (the chain up to it was rewritten)",
                prev_hash,
            )
        prev_hash = digest
        expected_seq += 1
    checked = expected_seq - 1
    beyond = [seq for seq in checkpoints if seq > checked]
    if beyond:
        return VerifyReport(
            False,
            checked,
            checked + 1,
            f"a signed checkpoint covers entry {max(beyond)}; the chain ends at {checked}",
            prev_hash,
        )
    if expected_head is not None:
        head_seq, head_hash = expected_head
        if checked < head_seq:
            return VerifyReport(
                False, checked, checked + 1, f"chain ends at {checked} but its head was {head_seq}", prev_hash
            )
        if checked > head_seq:
            return VerifyReport(
                False, checked, head_seq + 1, f"entries past the recorded head ({head_seq}) were added", prev_hash
            )
        if head_hash != prev_hash:
            return VerifyReport(False, checked, head_seq, "last entry does not match the recorded head", prev_hash)
    return VerifyReport(True, checked, head_hash=prev_hash)
