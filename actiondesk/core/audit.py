"""The audit trail's vocabulary and its hash chain.

Each entry's hash is SHA-256 over the canonical JSON of its content and the previous entry's hash, so any
edit, deletion or reordering breaks the chain from that entry on.
"""

from __future__ import annotations

import hashlib
import json
import math
from binascii import hexlify
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from json.encoder import encode_basestring
from operator import itemgetter
from typing import Any, NamedTuple

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


# json.dumps with these options builds an encoder per call; one made once encodes the same text
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode


def canonical_json(value: JsonValue) -> str:
    """Serialise with sorted keys, no spaces, UTF-8 text; NaN and infinity refused."""
    return _CANONICAL(value)


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
    """An audit row as read back from storage for verifying: every text column as its stored UTF-8 bytes.

    ``at`` is the stored time as text in UTC, ``YYYY-MM-DD HH:MM:SS.ffffff`` (any one character between date and
    time): verifying needs no date parsing, only two slices. ``payload`` is spliced into the hashed body exactly
    as stored, so it is neither decoded nor encoded again.
    """

    seq: int
    kind: bytes
    case_id: bytes | None
    actor: bytes
    at: bytes
    payload: bytes
    prev_hash: bytes
    hash: bytes


@dataclass(frozen=True, slots=True)
class VerifyReport:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    problem: str | None = None
    head_hash: str = GENESIS


def _quoted(value: bytes | None) -> bytes:
    """A stored name (UTF-8) as JSON text, ``%`` doubled for use inside a bytes template; strict UTF-8."""
    if value is None:
        return b"null"
    return encode_basestring(value.decode()).encode().replace(b"%", b"%%")


_seqs, _prevs, _hashes = itemgetter(0), itemgetter(6), itemgetter(7)


class _Walk:
    """The chain walked so far: the next seq expected and the hash the next entry must link to.

    ``batch`` proves a whole batch clean with a few comparisons done in C over the batch (the seqs against a
    range, the stored previous-hash links against the stored hashes, the computed digests against the stored
    hashes, the signed checkpoints that fall in it); only the body is built and hashed per row. A batch that is
    not clean is walked again entry by entry (``entries``), which names the first bad one.
    """

    def __init__(self, checkpoints: Mapping[int, str]) -> None:
        self.published = {seq: digest.encode() for seq, digest in checkpoints.items()}
        self.marks = sorted(self.published)
        self.expected = 1
        self.prev = GENESIS.encode()
        # (actor, case, kind) -> the body's bytes template with those three spelled as JSON
        self.templates: dict[tuple[bytes, bytes | None, bytes], bytes] = {}

    def template(self, actor: bytes, case_id: bytes | None, kind: bytes) -> bytes:
        if len(self.templates) > 65_536:
            self.templates.clear()
        made = self.templates[actor, case_id, kind] = (
            b'{"actor":'
            + _quoted(actor)
            + b',"at":"%sT%sZ","case_id":'
            + _quoted(case_id)
            + b',"kind":'
            + _quoted(kind)
            + b',"payload":%s,"prev_hash":"%s","seq":%d}'
        )
        return made

    def batch(self, rows: Sequence[tuple[Any, ...]]) -> bool:
        """True when every row of ``rows`` is the chain's next entry, intact; the walk then moves past them."""
        count = len(rows)
        if not count:
            return True
        first = self.expected
        get, make, sha256 = self.templates.get, self.template, hashlib.sha256
        try:
            # a stored text time is 'YYYY-MM-DD?HH:MM:SS.ffffff' (UTC): canonical once the separator is a T and
            # a Z follows; any other text hashes to something else, which is what an edit should do
            digests = [
                sha256(
                    (get((actor, case_id, kind)) or make(actor, case_id, kind)) % (at[:10], at[11:], p, prev, s)
                ).digest()
                for s, kind, case_id, actor, at, p, prev, _ in rows
            ]
            hashes = list(map(_hashes, rows))
            # one separator per 32-byte digest: equal only if every stored hash is its own digest, spelled alike
            if hexlify(b"".join(digests), b" ", 32) != b" ".join(hashes):
                return False
        except (TypeError, ValueError, AttributeError):  # a value of the wrong type or not UTF-8: named below
            return False
        if list(map(_seqs, rows)) != list(range(first, first + count)):
            return False
        if list(map(_prevs, rows)) != [self.prev, *hashes[:-1]]:
            return False
        marks = self.marks
        for index in range(bisect_left(marks, first), bisect_left(marks, first + count)):
            if hashes[marks[index] - first] != self.published[marks[index]]:
                return False
        self.expected, self.prev = first + count, hashes[-1]
        return True

    def entries(self, rows: Iterable[tuple[Any, ...]]) -> VerifyReport | None:
        """Walk ``rows`` one entry at a time; the report on the first that breaks the chain, else None."""
        for seq, kind, case_id, actor, at, payload, stored_prev, digest in rows:
            expected, prev = self.expected, self.prev
            if seq != expected:
                problem = f"entry {expected} is missing (next stored entry is {seq})"
                if seq < expected:
                    problem = f"entry {seq} is out of order"
                return self.report(expected - 1, expected, problem)
            if stored_prev != prev:
                return self.report(seq - 1, seq, "previous-hash link does not match")
            try:
                body = self.template(actor, case_id, kind) % (at[:10], at[11:], payload, prev, seq)
            except (TypeError, ValueError, AttributeError):  # a value of the wrong type, a name not UTF-8
                body = None
            if body is None or hashlib.sha256(body).hexdigest().encode() != digest:
                return self.report(seq - 1, seq, "content does not match its hash")
            if self.published.get(seq, digest) != digest:
                return self.report(
                    seq - 1, seq, "entry differs from its signed checkpoint (the chain up to it was rewritten)"
                )
            self.expected, self.prev = seq + 1, digest
        return None

    def report(self, checked: int, first_bad: int | None = None, problem: str | None = None) -> VerifyReport:
        return VerifyReport(problem is None, checked, first_bad, problem, self.prev.decode("ascii", "replace"))


def verify_chain(
    batches: Iterable[Sequence[StoredRow] | Sequence[tuple[Any, ...]]],
    expected_head: tuple[int, str] | None = None,
    checkpoints: Mapping[int, str] | None = None,
) -> VerifyReport:
    """Walk the rows in ``seq`` order, a batch at a time; name the first entry that breaks the chain.

    ``batches`` are lists of StoredRows or plain tuples in the same order (a database cursor's ``fetchmany``).
    ``expected_head`` is the (seq, hash) the store recorded for the chain's head; truncation of the tail is
    caught against it. ``checkpoints`` maps seq to the hash a signed checkpoint published for that entry: a chain
    rewritten from an edit onwards (head included) still differs from what was published.

    Per entry: one body built around the stored payload bytes, one SHA-256; the checks of a batch are whole-list
    comparisons, and a batch that fails them is walked again entry by entry to name the first bad entry.
    """
    checkpoints = checkpoints or {}
    walk = _Walk(checkpoints)
    for rows in batches:
        if not walk.batch(rows):
            broken = walk.entries(rows)
            if broken is not None:
                return broken
    checked = walk.expected - 1
    prev_hash = walk.prev.decode()
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
