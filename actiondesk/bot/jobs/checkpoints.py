"""Signed audit checkpoints: the chain head, signed with Ed25519 and published outside the database.

A checkpoint file (JSON Lines) kept away from the database — another host, a WORM bucket, a ticket — lets
`actiondesk audit verify` catch what the hash chain alone cannot: the tail deleted, or the whole chain
recomputed after an edit (the head row included). Only the public key is needed to verify.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import os
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import JsonValue

from actiondesk.core.audit import canonical_json, timestamp
from actiondesk.core.errors import AuditIntegrityError, ConfigurationError
from actiondesk.core.ports import Clock

log = logging.getLogger(__name__)

DOMAIN = b"actiondesk-audit-checkpoint-v1\n"


class HeadSource(Protocol):
    def audit_head(self) -> tuple[int, str]: ...


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    hash: str
    at: str
    key_id: str
    signature: str = ""

    def message(self) -> bytes:
        body: dict[str, JsonValue] = {"seq": self.seq, "hash": self.hash, "at": self.at, "key_id": self.key_id}
        return DOMAIN + canonical_json(body).encode()


def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def generate_key(path: Path) -> str:
    """Write a new private key (mode 0600) and its public key beside it (``.pub``); return the public PEM."""
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    public = public_pem(private.public_key())
    path.with_name(path.name + ".pub").write_text(public)
    return public


def public_pem(public: Ed25519PublicKey) -> str:
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def load_private(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise ConfigurationError(f"audit signing key {path}: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigurationError(f"audit signing key {path}: not an Ed25519 private key")
    return key


def load_public(path: Path) -> Ed25519PublicKey:
    try:
        data = path.read_bytes()
        key = (
            serialization.load_pem_private_key(data, password=None).public_key()
            if b"PRIVATE KEY" in data
            else serialization.load_pem_public_key(data)
        )
    except (OSError, ValueError, TypeError) as exc:
        raise ConfigurationError(f"audit public key {path}: {exc}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise ConfigurationError(f"audit public key {path}: not an Ed25519 key")
    return key


def sign(seq: int, head_hash: str, at: datetime, private: Ed25519PrivateKey) -> Checkpoint:
    unsigned = Checkpoint(seq=seq, hash=head_hash, at=timestamp(at), key_id=key_id(private.public_key()))
    signature = base64.b64encode(private.sign(unsigned.message())).decode()
    return Checkpoint(**{**asdict(unsigned), "signature": signature})


def publish(checkpoint: Checkpoint, path: Path) -> None:
    """Append one checkpoint line and make it durable."""
    with path.open("a", encoding="utf-8") as out:
        out.write(json.dumps(asdict(checkpoint), sort_keys=True) + "\n")
        out.flush()
        os.fsync(out.fileno())


def read_checkpoints(path: Path, public: Ed25519PublicKey) -> dict[int, str]:
    """seq → published hash, every line's signature checked; a forged or altered line is an integrity error."""
    published: dict[int, str] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigurationError(f"checkpoint file {path}: {exc}") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            checkpoint = Checkpoint(**json.loads(line))
            public.verify(base64.b64decode(checkpoint.signature), checkpoint.message())
        except (ValueError, TypeError, InvalidSignature) as exc:
            reason = "bad signature" if isinstance(exc, InvalidSignature) else f"unreadable ({exc})"
            raise AuditIntegrityError(f"checkpoint file {path}, line {number}: {reason}") from None
        if published.get(checkpoint.seq, checkpoint.hash) != checkpoint.hash:
            raise AuditIntegrityError(f"checkpoint file {path}, line {number}: two hashes for entry {checkpoint.seq}")
        published[checkpoint.seq] = checkpoint.hash
    return published


class Publisher:
    """Publishes a signed checkpoint of the chain head now and then, when a key and a file are configured."""

    def __init__(self, store: HeadSource, private: Ed25519PrivateKey, path: Path, clock: Clock) -> None:
        self._store = store
        self._private = private
        self._path = path
        self._clock = clock
        self._last: tuple[int, str] | None = None

    def publish_once(self) -> Checkpoint | None:
        """Sign and append the current head, unless it is the one published last."""
        seq, head = self._store.audit_head()
        if seq == 0 or (seq, head) == self._last:
            return None
        checkpoint = sign(seq, head, self._clock.now(), self._private)
        publish(checkpoint, self._path)
        self._last = (seq, head)
        log.info("audit checkpoint published: entry %d", seq)
        return checkpoint

    async def run(self, minutes: float) -> None:
        while True:
            try:
                await asyncio.to_thread(self.publish_once)
            except Exception:  # the edge of a periodic job: log and try again next time
                log.exception("publishing an audit checkpoint failed")
            await asyncio.sleep(minutes * 60)
