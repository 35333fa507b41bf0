"""The circuit breaker (DESIGN §3): automation that keeps doing the same thing, or undoes itself, is stopped.

The breaker is open for a target when, within the last ``window_minutes``:

- the same action with the same parameters already ran on it ``max_repeats`` times (X) while the state it
  left behind (the inventory's fingerprint of the target) is still what it is now, so a further run would be
  the X+1-th without anything changing; or
- the proposed call undoes one that ran (it equals that run's declared inverse): two actions undoing each other.

Once open, automation for the whole target is frozen (every mutating call on it is denied and its case goes to
a person) until ``cooldown_minutes`` pass or a person resets it. History and trips live in one state blob
(``governance-breaker``), so every process on the database sees them; resets are audited.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from pydantic import JsonValue

from actiondesk.core.audit_payloads import SettingChanged
from actiondesk.core.errors import GovernanceError
from actiondesk.core.plan import ActionCall
from actiondesk.core.ports import Clock, StateBlobs, Store

log = logging.getLogger(__name__)

BLOB = "governance-breaker"
_FREE_TEXT = frozenset({"reason"})  # parameters that do not change what a call does


@dataclass(frozen=True)
class BreakerVerdict:
    open: bool
    reason: str = ""
    rule: str = ""


def _same(call: dict[str, Any], other: dict[str, Any]) -> bool:
    """Whether two calls do the same thing: same action, same parameters apart from free text."""
    if call.get("action") != other.get("action"):
        return False
    a = {k: v for k, v in (call.get("params") or {}).items() if k not in _FREE_TEXT and v is not None}
    b = {k: v for k, v in (other.get("params") or {}).items() if k not in _FREE_TEXT and v is not None}
    return all(a[k] == b[k] for k in a.keys() & b.keys())  # a parameter one side leaves out is not compared


def _shown(call: dict[str, Any]) -> str:
    params = ", ".join(f"{k}={v}" for k, v in (call.get("params") or {}).items() if k not in _FREE_TEXT)
    return f"{call.get('action')} {params}".strip()


class CircuitBreaker:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        *,
        max_repeats: int = 3,
        window_minutes: float = 10.0,
        cooldown_minutes: float = 60.0,
        read_only: bool = False,
        max_age: float = 1.0,
    ) -> None:
        if max_repeats < 1 or window_minutes <= 0 or cooldown_minutes <= 0:
            raise GovernanceError("the breaker needs max_repeats >= 1 and positive minutes")
        self._store = store
        self._blobs = cast(StateBlobs, store)
        self._clock = clock
        self.max_repeats = max_repeats
        self.window = timedelta(minutes=window_minutes)
        self.cooldown = timedelta(minutes=cooldown_minutes)
        self.read_only = read_only  # e.g. `actiondesk policy check`: evaluate, never trip
        self._lock = threading.Lock()
        self.max_age = max_age  # another process's trips show within this; fresh=True always reads
        self._cached: tuple[float, dict[str, Any]] | None = None

    # State

    def _load(self) -> dict[str, Any]:
        text = self._blobs.get_blob(BLOB)
        if not text:
            return {"history": [], "tripped": {}}
        state: dict[str, Any] = json.loads(text)
        return state

    def _view(self, fresh: bool) -> dict[str, Any]:
        """The stored state with times parsed, from a cache at most ``max_age`` seconds old unless ``fresh``."""
        cached = self._cached
        if fresh or cached is None or time.monotonic() - cached[0] >= self.max_age:
            raw = self._load()
            for h in raw.get("history", []):
                h["_at"] = datetime.fromisoformat(h["at"])
            for t in (raw.get("tripped") or {}).values():
                t["_until"] = datetime.fromisoformat(t["until"])
            cached = (time.monotonic(), raw)
            self._cached = cached
        return cached[1]

    def _save(self, raw: dict[str, Any], now: datetime) -> None:
        horizon = now - self.window
        raw["history"] = [h for h in raw.get("history", []) if datetime.fromisoformat(h["at"]) > horizon]
        raw["tripped"] = {
            t: v for t, v in (raw.get("tripped") or {}).items() if datetime.fromisoformat(v["until"]) > now
        }
        self._blobs.put_blob(BLOB, json.dumps(raw, sort_keys=True))
        self._cached = None

    def tripped(self, at: datetime | None = None) -> dict[str, dict[str, Any]]:
        """Targets whose automation is frozen now: {target: {since, until, reason}}."""
        now = at or self._clock.now()
        trips = self._load().get("tripped") or {}
        return {t: v for t, v in trips.items() if datetime.fromisoformat(v["until"]) > now}

    # Checking

    def check(
        self,
        call: ActionCall,
        target: str,
        fingerprint: str,
        at: datetime,
        *,
        undo_rule: bool = True,
        fresh: bool = False,
    ) -> BreakerVerdict:
        """Whether automation on ``target`` must stop before ``call`` runs. Reads only."""
        raw = self._view(fresh)
        trip = (raw.get("tripped") or {}).get(target)
        if trip is not None and trip["_until"] > at:
            return BreakerVerdict(
                True,
                f"{trip['reason']}; automation for {target} is frozen until "
                f"{trip['_until']:%Y-%m-%d %H:%M} UTC or a person resets it",
                "breaker.tripped",
            )
        horizon = at - self.window
        recent = [h for h in raw.get("history", []) if h["target"] == target and horizon < h["_at"] <= at]
        proposed = {"action": call.action, "params": dict(call.params)}
        for h in reversed(recent if undo_rule else []):
            inverse = h.get("inverse")
            if inverse and _same(proposed, inverse):
                minutes = (at - h["_at"]).total_seconds() / 60
                return BreakerVerdict(
                    True,
                    f"{_shown(proposed)} would undo {_shown(h)} run {minutes:.0f} min ago: "
                    "two actions undoing each other",
                    "breaker.undo",
                )
        repeats = [h for h in recent if _same(proposed, h) and h.get("fingerprint") == fingerprint]
        if len(repeats) >= self.max_repeats:
            minutes = self.window.total_seconds() / 60
            return BreakerVerdict(
                True,
                f"{call.action} already ran {len(repeats)} times on {target} in {minutes:.0f} min "
                "and the observed state did not change",
                "breaker.repeat",
            )
        return BreakerVerdict(False)

    # Changing

    def record(
        self,
        call: ActionCall,
        target: str,
        fingerprint: str,
        inverse: ActionCall | None,
        at: datetime,
        case_id: str | None,
    ) -> None:
        """Remember that ``call`` ran on ``target`` and left it at ``fingerprint``."""
        if self.read_only:
            return
        entry: dict[str, JsonValue] = {
            "action": call.action,
            "params": dict(call.params),
            "target": target,
            "at": at.isoformat(),
            "fingerprint": fingerprint,
            "inverse": {"action": inverse.action, "params": dict(inverse.params)} if inverse else None,
            "case": case_id,
        }
        with self._lock:
            raw = self._load()
            raw.setdefault("history", []).append(entry)
            self._save(raw, at)

    def trip(self, target: str, reason: str, at: datetime) -> bool:
        """Freeze automation for ``target``; False if it already was (or the breaker is read-only)."""
        if self.read_only:
            return False
        with self._lock:
            raw = self._load()
            trips = raw.setdefault("tripped", {})
            current = trips.get(target)
            if current is not None and datetime.fromisoformat(current["until"]) > at:
                return False
            trips[target] = {"since": at.isoformat(), "until": (at + self.cooldown).isoformat(), "reason": reason}
            self._save(raw, at)
        log.warning("circuit breaker tripped on %s: %s", target, reason)
        return True

    def reset(self, target: str, by: str) -> bool:
        """A person closes the breaker for ``target`` (and forgets its history); audited. False if it was not open."""
        now = self._clock.now()
        with self._lock:
            raw = self._load()
            was = (raw.get("tripped") or {}).pop(target, None)
            raw["history"] = [h for h in raw.get("history", []) if h["target"] != target]
            self._save(raw, now)
        with self._store.transaction() as uow:
            uow.append_audit(
                SettingChanged(setting="circuit_breaker", action="reset", target=target, was_open=bool(was)).draft(
                    None, by, now
                )
            )
        return was is not None
