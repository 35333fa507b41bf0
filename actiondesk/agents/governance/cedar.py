"""The Cedar policy set: loaded from ``.cedar`` files and a schema, validated, parsed once, re-read on change.

A loaded set is an immutable ``PolicySnapshot``. A decision takes one snapshot and uses only it, so a reload
that lands in the middle of a decision never mixes two sets; the decision records the snapshot's hash.
Reloading happens at most once per ``check_seconds`` and only when a file changed; an invalid new set is
refused (logged with file, line and reason) and the previous one stays in force.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import cedarpy

from actiondesk.core.errors import ConfigurationError

log = logging.getLogger(__name__)

FALLBACKS = ("deny", "suggest", "approve")  # weakest first
SCHEMA_SUFFIX = ".cedarschema"
POLICY_SUFFIX = ".cedar"


class PolicyError(ConfigurationError):
    """Raised when a policy file or the schema is invalid; the message names the file, the line and why."""


@dataclass(frozen=True, slots=True)
class PolicyMeta:
    """One policy's identity and annotations, and where it was written."""

    id: str
    effect: str  # "permit" | "forbid"
    file: str
    line: int
    fallback: str = "deny"
    approvers: str = "production"
    quorum: int = 1
    expires: int | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Statement:
    text: str
    file: str
    line: int


@dataclass(frozen=True)
class PolicySnapshot:
    """A parsed, validated policy set. Immutable: share it freely across threads."""

    policy_set: cedarpy.PolicySet
    entities: cedarpy.Entities
    meta: Mapping[str, PolicyMeta]  # by Cedar's internal id ("policy0", ...)
    by_id: Mapping[str, PolicyMeta]  # by @id
    hash: str
    files: tuple[str, ...]
    source: str  # the directory, or "(built-in)"

    def policy(self, internal_id: str) -> PolicyMeta:
        return self.meta[internal_id]


def builtin_dir() -> Path:
    return Path(str(resources.files("actiondesk.agents") / "policies"))


def split_statements(text: str, file: str) -> list[Statement]:
    """Split Cedar source into one statement per policy (ending at a ``;`` outside braces, strings, comments).

    Each statement keeps the line its first token is on, so errors can name it.
    """
    out: list[Statement] = []
    depth = 0
    i = 0
    n = len(text)
    line = 1
    start = 0
    start_line: int | None = None
    while i < n:
        ch = text[i]
        if ch == "\n":
            line += 1
            i += 1
            continue
        if ch == "/" and i + 1 < n and text[i + 1] == "/":
            while i < n and text[i] != "\n":
                i += 1
            continue
        if ch.isspace():
            i += 1
            continue
        if start_line is None:
            start_line = line
            start = i
        if ch == '"':
            i += 1
            while i < n and text[i] != '"':
                if text[i] == "\\":
                    i += 1
                elif text[i] == "\n":
                    line += 1
                i += 1
            i += 1
            continue
        if ch in "({[":
            depth += 1
        elif ch in ")}]":
            depth -= 1
        elif ch == ";" and depth <= 0:
            out.append(Statement(text[start : i + 1], file, start_line))
            start_line = None
            depth = 0
        i += 1
    if start_line is not None:
        out.append(Statement(text[start:], file, start_line))
    return out


def _annotation_int(meta: dict[str, str], key: str, where: str, low: int, high: int) -> int | None:
    if key not in meta:
        return None
    raw = meta[key]
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise PolicyError(f"{where}: @{key}({raw!r}) must be a whole number from {low} to {high}")
    return int(raw)


def _meta(statement: Statement) -> PolicyMeta:
    where = f"{statement.file}:{statement.line}"
    try:
        cedarpy.PolicySet.from_str(statement.text)
        parsed = json.loads(cedarpy.policies_to_json_str(statement.text))
    except ValueError as exc:
        raise PolicyError(f"{where}: {exc}") from None
    if parsed.get("templates"):
        raise PolicyError(f"{where}: templates are not supported; write a static policy")
    policies = list(parsed.get("staticPolicies", {}).values())
    if len(policies) != 1:
        raise PolicyError(f"{where}: expected one policy here, found {len(policies)}")
    body = policies[0]
    notes: dict[str, str] = {k: str(v) for k, v in (body.get("annotations") or {}).items()}
    policy_id = notes.get("id", "").strip()
    if not policy_id:
        raise PolicyError(f'{where}: every policy needs an @id("...") annotation')
    fallback = notes.get("fallback", "deny")
    if fallback not in FALLBACKS:
        raise PolicyError(f"{where}: @fallback({fallback!r}) must be one of {', '.join(FALLBACKS)}")
    if body["effect"] == "permit" and "fallback" in notes:
        raise PolicyError(f"{where}: @fallback only means something on a forbid")
    approvers = notes.get("approvers", "production").strip()
    if not approvers:
        raise PolicyError(f"{where}: @approvers names a group, or production / freeze")
    return PolicyMeta(
        id=policy_id,
        effect=body["effect"],
        file=statement.file,
        line=statement.line,
        fallback=fallback,
        approvers=approvers,
        quorum=_annotation_int(notes, "quorum", where, 1, 20) or 1,
        expires=_annotation_int(notes, "expires", where, 60, 7 * 24 * 3600),
        reason=notes.get("reason", ""),
    )


def _files(directory: Path) -> tuple[list[Path], Path]:
    if not directory.is_dir():
        raise PolicyError(f"{directory}: the policy directory does not exist")
    policies = sorted(p for p in directory.iterdir() if p.suffix == POLICY_SUFFIX and p.is_file())
    if not policies:
        raise PolicyError(f"{directory}: no {POLICY_SUFFIX} files")
    schemas = sorted(p for p in directory.iterdir() if p.suffix == SCHEMA_SUFFIX and p.is_file())
    if len(schemas) > 1:
        raise PolicyError(f"{directory}: more than one {SCHEMA_SUFFIX} file ({', '.join(p.name for p in schemas)})")
    schema = schemas[0] if schemas else builtin_dir() / f"schema{SCHEMA_SUFFIX}"
    return policies, schema


def _validation_problem(error: Any, meta: Mapping[str, PolicyMeta]) -> str:
    internal = getattr(error, "policy_id", None)
    text = str(getattr(error, "error", error))
    found = meta.get(str(internal)) if internal is not None else None
    if found is None:
        return text
    text = text.replace(f"for policy `{internal}`, ", "")
    return f"{found.file}:{found.line}: policy {found.id}: {text}"


def load_policies(directory: Path | None = None) -> PolicySnapshot:
    """Read, check and parse every ``.cedar`` file in ``directory`` (default: the built-in set).

    Raise PolicyError naming the file, the line and the reason for the first problem found.
    """
    source = builtin_dir() if directory is None else directory
    policy_files, schema_file = _files(source)
    try:
        schema_text = schema_file.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(f"{schema_file}: cannot read the schema: {exc}") from None
    texts: list[tuple[str, str]] = []
    for path in policy_files:
        try:
            texts.append((path.name, path.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError) as exc:
            raise PolicyError(f"{path.name}: cannot read: {exc}") from None
    return compile_policies(
        texts, schema_text, schema_name=schema_file.name, source=str(source) if directory is not None else "(built-in)"
    )


def builtin_schema() -> str:
    return (builtin_dir() / f"schema{SCHEMA_SUFFIX}").read_text(encoding="utf-8")


def compile_policies(
    texts: list[tuple[str, str]],
    schema_text: str | None = None,
    *,
    schema_name: str = f"schema{SCHEMA_SUFFIX}",
    source: str = "(text)",
) -> PolicySnapshot:
    """Check and parse policy texts (file name, Cedar source) against a schema (default: the built-in one)."""
    schema_text = builtin_schema() if schema_text is None else schema_text
    try:
        schema = cedarpy.Schema.from_str(schema_text)
    except ValueError as exc:
        raise PolicyError(f"{schema_name}: invalid Cedar schema: {exc}") from None
    digest = hashlib.sha256(b"schema\0" + schema_text.encode() + b"\0")
    statements: list[Statement] = []
    for name, text in texts:
        digest.update(name.encode() + b"\0" + text.encode() + b"\0")
        statements.extend(split_statements(text, name))
    if not statements:
        raise PolicyError(f"{source}: the policy files hold no policies")
    meta: dict[str, PolicyMeta] = {}
    by_id: dict[str, PolicyMeta] = {}
    for index, statement in enumerate(statements):
        found = _meta(statement)
        if found.id in by_id:
            first = by_id[found.id]
            raise PolicyError(
                f"{found.file}:{found.line}: @id {found.id!r} is already used at {first.file}:{first.line}"
            )
        meta[f"policy{index}"] = found
        by_id[found.id] = found
    full = "\n".join(s.text for s in statements)
    result = cedarpy.validate_policies(full, schema)
    if not result.validation_passed:
        problems = [_validation_problem(e, meta) for e in result.errors]
        raise PolicyError(problems[0] + (f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""))
    return PolicySnapshot(
        policy_set=cedarpy.PolicySet.from_str(full),
        entities=cedarpy.Entities.from_json_str("[]"),
        meta=meta,
        by_id=by_id,
        hash=digest.hexdigest()[:16],
        files=(*(name for name, _ in texts), schema_name),
        source=source,
    )


@functools.lru_cache(maxsize=1)
def builtin_snapshot() -> PolicySnapshot:
    """The shipped policy set, parsed once per process."""
    return load_policies(None)


def _fingerprint(directory: Path) -> tuple[tuple[str, int, int], ...]:
    try:
        entries = sorted(directory.iterdir())
    except OSError:
        return ()
    out = []
    for path in entries:
        if path.suffix in (POLICY_SUFFIX, SCHEMA_SUFFIX):
            try:
                stat = path.stat()
            except OSError:
                continue
            out.append((path.name, stat.st_mtime_ns, stat.st_size))
    return tuple(out)


class PolicyStore:
    """The policy set in force. ``current()`` is cheap; it re-reads the files only when they changed."""

    def __init__(self, directory: Path | None = None, *, check_seconds: float = 2.0) -> None:
        self.directory = directory
        self.check_seconds = check_seconds
        self._lock = threading.Lock()
        # invalid at start-up: raise, and the server does not start
        self._snapshot = load_policies(directory) if directory is not None else builtin_snapshot()
        self._stamp = _fingerprint(directory) if directory is not None else ()
        self._checked = time.monotonic()
        self.last_error: str | None = None

    def current(self) -> PolicySnapshot:
        if self.directory is not None and time.monotonic() - self._checked >= self.check_seconds:
            self.refresh()
        return self._snapshot

    def refresh(self) -> bool:
        """Re-read the files if they changed; True when a new set took effect."""
        if self.directory is None:
            return False
        with self._lock:
            self._checked = time.monotonic()
            stamp = _fingerprint(self.directory)
            if stamp == self._stamp:
                return False
            try:
                snapshot = load_policies(self.directory)
            except PolicyError as exc:
                if str(exc) != self.last_error:
                    log.error("policy files changed but are invalid; keeping %s: %s", self._snapshot.hash, exc)
                self.last_error = str(exc)
                return False
            self._stamp = stamp
            self.last_error = None
            changed = snapshot.hash != self._snapshot.hash
            self._snapshot = snapshot  # one reference swap: a decision sees the old set or the new, never both
        if changed:
            log.info("policy set reloaded from %s: %s", self.directory, snapshot.hash)
        return changed
