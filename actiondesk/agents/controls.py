"""Runtime governance switches: the kill switch, autonomy changes, chaos days and freezes set from chat.

They are kept in one state blob (``governance-controls``) so that every process on the database sees the same
switches, and every change is appended to the audit trail as ``setting_changed`` with the person as actor.
Governance reads ``state()`` on every decision, including the time-of-use re-check right before a call runs.

Who may change them: when the instance is given a directory (``Runtime.controls`` always is), the person must
be in the directory and a member of one of ``groups`` (default ``sre`` and ``cab``); the agent's own identity
never may. An instance without a directory is the system's own (the scheduler's chaos and freeze switches).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import MappingProxyType
from typing import Any, cast

from actiondesk.agents.windows import Window
from actiondesk.core.audit_payloads import SettingChanged
from actiondesk.core.errors import GovernanceError, NotAuthorizedError
from actiondesk.core.ports import Clock, Directory, StateBlobs, Store

BLOB = "governance-controls"
DEFAULT_GROUPS = ("sre", "cab")
MAX_LEVEL = 3

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


class ControlError(GovernanceError):
    """Raised when a control change is malformed (bad key, level, time or name) or names nothing that exists."""


@dataclass(frozen=True)
class ControlState:
    kill_switch: bool = False
    autonomy: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    chaos: tuple[Window, ...] = ()
    freezes: tuple[Window, ...] = ()
    kill_reason: str | None = None
    kill_by: str | None = None


def _check_name(what: str, value: object) -> str:
    if not isinstance(value, str) or not _NAME.match(value):
        raise ControlError(f"{what} {value!r} is not a valid name (letters, digits, '.', '_', '-')")
    return value


RISKS = ("low", "medium", "high")


def check_autonomy_key(key: object) -> str:
    """A key as in PolicyData.autonomy: ``service``, ``service@env``, ``tier:N`` or ``env:NAME``, each
    optionally for one action risk: ``KEY/low``, ``KEY/medium``, ``KEY/high``."""
    if not isinstance(key, str) or not key:
        raise ControlError(f"autonomy key {key!r} must be service, service@env, tier:N or env:NAME")
    if "/" in key:
        base, _, risk = key.rpartition("/")
        if risk not in RISKS:
            raise ControlError(f"autonomy key {key!r}: the risk after / must be low, medium or high")
        return f"{check_autonomy_key(base)}/{risk}"
    if key.startswith("tier:"):
        tier = key[5:]
        if not tier.isdigit() or len(tier) > 2:
            raise ControlError(f"autonomy key {key!r}: tier must be a number, like tier:1")
        return f"tier:{int(tier)}"
    if key.startswith("env:"):
        _check_name("environment", key[4:])
        return key
    if "@" in key:
        service, _, env = key.partition("@")
        _check_name("service", service)
        _check_name("environment", env)
        return key
    return _check_name("service", key)


def check_level(level: object) -> int:
    if isinstance(level, bool) or not isinstance(level, int) or not 0 <= level <= MAX_LEVEL:
        raise ControlError(f"autonomy level {level!r} must be 0 (suggest), 1 (approve), 2 (guarded) or 3 (autonomous)")
    return level


def _aware(what: str, at: object) -> datetime:
    if not isinstance(at, datetime) or at.tzinfo is None or at.utcoffset() is None:
        raise ControlError(f"{what} must be a date and time with a time zone, got {at!r}")
    return at


def _window(raw: Mapping[str, Any]) -> Window:
    return Window(
        name=str(raw["name"]),
        start=datetime.fromisoformat(raw["start"]),
        end=datetime.fromisoformat(raw["end"]),
        services=tuple(raw.get("services", ())),
    )


def _raw(window: Window) -> dict[str, Any]:
    return {
        "name": window.name,
        "start": window.start.isoformat(),
        "end": window.end.isoformat(),
        "services": list(window.services),
    }


def _payload(window: Window) -> dict[str, Any]:
    return _raw(window)


class Controls:
    """Persisted runtime governance switches; each change audited with the person as actor."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        agent: str,
        *,
        directory: Directory | None = None,
        groups: tuple[str, ...] = DEFAULT_GROUPS,
        max_age: float = 1.0,
    ) -> None:
        self._store = store
        self._blobs = cast(StateBlobs, store)  # every Store adapter also keeps state blobs
        self._clock = clock
        self._agent = agent
        self._directory = directory
        self.groups = groups
        self.max_age = max_age
        self._cached: tuple[float, ControlState] | None = None

    # Reading

    def state(self, *, fresh: bool = False) -> ControlState:
        """The switches in force now; windows that have ended are left out.

        Read from the store at most every ``max_age`` seconds (another process's change shows within that);
        ``fresh=True`` always reads, as the time-of-use check right before an action runs does. This process's
        own changes show at once.
        """
        now = self._clock.now()
        cached = self._cached
        if fresh or cached is None or time.monotonic() - cached[0] >= self.max_age:
            cached = (time.monotonic(), self._parse(self._load(), None))
            self._cached = cached
        state = cached[1]
        if any(w.end <= now for w in (*state.chaos, *state.freezes)):
            state = replace(
                state,
                chaos=tuple(w for w in state.chaos if w.end > now),
                freezes=tuple(w for w in state.freezes if w.end > now),
            )
        return state

    def _load(self) -> dict[str, Any]:
        text = self._blobs.get_blob(BLOB)
        if not text:
            return {"kill_switch": {"on": False}, "autonomy": {}, "chaos": [], "freezes": []}
        state: dict[str, Any] = json.loads(text)
        return state

    @staticmethod
    def _parse(raw: Mapping[str, Any], now: datetime | None) -> ControlState:
        kill = raw.get("kill_switch") or {}
        return ControlState(
            kill_switch=bool(kill.get("on", False)),
            autonomy=MappingProxyType({str(k): int(v) for k, v in (raw.get("autonomy") or {}).items()}),
            chaos=tuple(w for w in map(_window, raw.get("chaos") or ()) if now is None or w.end > now),
            freezes=tuple(w for w in map(_window, raw.get("freezes") or ()) if now is None or w.end > now),
            kill_reason=kill.get("reason") if kill.get("on") else None,
            kill_by=kill.get("by") if kill.get("on") else None,
        )

    # Changing

    def authorize(self, by: str) -> None:
        """Raise NotAuthorizedError unless ``by`` may change governance controls."""
        if not isinstance(by, str) or not by:
            raise NotAuthorizedError("a control change needs the person who makes it")
        if by == self._agent:
            raise NotAuthorizedError(f"{by} is the agent's own identity and cannot change its own controls")
        if self._directory is None:
            return
        if self._directory.person(by) is None:
            raise NotAuthorizedError(f"{by!r} is not in the directory; unmapped people cannot change controls")
        if not any(by in self._directory.members(group) for group in self.groups):
            raise NotAuthorizedError(f"{by} is not in {' or '.join(self.groups)}; only they can change controls")

    def _change(self, by: str, setting: str, detail: dict[str, Any], mutate: Any) -> ControlState:
        self.authorize(by)
        now = self._clock.now()
        raw = self._load()
        mutate(raw, now)
        # windows that have ended are pruned on every write
        for kind in ("chaos", "freezes"):
            raw[kind] = [w for w in raw.get(kind) or [] if _window(w).end > now]
        self._blobs.put_blob(BLOB, json.dumps(raw, sort_keys=True))
        self._cached = None
        with self._store.transaction() as uow:
            uow.append_audit(SettingChanged.model_validate({"setting": setting, **detail}).draft(None, by, now))
        return self._parse(raw, now)

    def set_kill_switch(self, on: bool, by: str, reason: str) -> ControlState:
        if not isinstance(on, bool):
            raise ControlError(f"kill switch must be on or off, got {on!r}")
        reason = (reason or "").strip()
        if on and not reason:
            raise ControlError("turning the kill switch on needs a reason")

        def mutate(raw: dict[str, Any], now: datetime) -> None:
            raw["kill_switch"] = {"on": on, "by": by, "reason": reason, "at": now.isoformat()}

        return self._change(by, "kill_switch", {"on": on, "reason": reason}, mutate)

    def set_autonomy(self, key: str, level: int, by: str) -> ControlState:
        key = check_autonomy_key(key)
        level = check_level(level)

        def mutate(raw: dict[str, Any], now: datetime) -> None:
            raw.setdefault("autonomy", {})[key] = level

        previous = self._load().get("autonomy", {}).get(key)
        return self._change(by, "autonomy", {"key": key, "level": level, "previous": previous}, mutate)

    def start_chaos(self, service: str, until: datetime, by: str) -> ControlState:
        service = _check_name("service", service)
        until = _aware("the chaos day's end", until)
        now = self._clock.now()
        if until <= now:
            raise ControlError(f"the chaos day's end {until.isoformat()} is not in the future")
        window = Window(name=f"chaos:{service}", start=now, end=until, services=(service,))

        def mutate(raw: dict[str, Any], now: datetime) -> None:
            kept = [w for w in raw.get("chaos") or [] if w.get("services") != [service]]
            raw["chaos"] = [*kept, _raw(window)]

        return self._change(by, "chaos_day", {"action": "start", **_payload(window)}, mutate)

    def stop_chaos(self, service: str, by: str) -> ControlState:
        service = _check_name("service", service)
        if not any(service in w.services for w in self.state().chaos):
            raise ControlError(f"no chaos day is on for {service}")

        def mutate(raw: dict[str, Any], now: datetime) -> None:
            raw["chaos"] = [w for w in raw.get("chaos") or [] if service not in (w.get("services") or [])]

        return self._change(by, "chaos_day", {"action": "stop", "service": service}, mutate)

    def add_freeze(self, name: str, start: datetime, end: datetime, services: tuple[str, ...], by: str) -> ControlState:
        if not isinstance(name, str) or not name.strip() or len(name) > 200:
            raise ControlError("a freeze needs a name (at most 200 characters)")
        name = name.strip()
        start = _aware("the freeze's start", start)
        end = _aware("the freeze's end", end)
        if end <= start:
            raise ControlError("the freeze must end after it starts")
        if end <= self._clock.now():
            raise ControlError(f"the freeze's end {end.isoformat()} is already past")
        services = tuple(_check_name("service", s) for s in services)
        window = Window(name=name, start=start, end=end, services=services)

        def mutate(raw: dict[str, Any], now: datetime) -> None:
            kept = [w for w in raw.get("freezes") or [] if w.get("name") != name]
            raw["freezes"] = [*kept, _raw(window)]

        return self._change(by, "freeze", {"action": "add", **_payload(window)}, mutate)

    def end_freeze(self, name: str, by: str) -> ControlState:
        if not any(w.name == name for w in self.state().freezes):
            raise ControlError(f"no freeze named {name!r} is set")

        def mutate(raw: dict[str, Any], now: datetime) -> None:
            raw["freezes"] = [w for w in raw.get("freezes") or [] if w.get("name") != name]

        return self._change(by, "freeze", {"action": "end", "name": name}, mutate)
