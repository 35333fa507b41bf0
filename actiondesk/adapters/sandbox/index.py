"""Indexes of one ``EstateState``, built the first time it is read and kept beside it while it is in use.

An ``EstateState`` is frozen and replaced whole on every mutation, so what is derived from it (services by
name, each service's deployments and changes in time order, its faults) never goes stale: the questions of
timeline.py and signals.py, asked thousands of times per investigation (every service, every instant of a
series, every hop of the call graph), look things up here instead of scanning and sorting the state each time.
``memo`` keeps answers for (question, service, instant) while the state lives, bounded by ``MEMO_LIMIT``.

The state is a pydantic model with dict fields, so it cannot be a dict key: indexes are found by ``id(state)``
and checked by identity; the ``KEEP`` most recent are held (with their state, so an id is never reused while
its index is held).
"""

from __future__ import annotations

import threading
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TypeVar, cast

from actiondesk.adapters.sandbox.world import (
    ChangeKind,
    ChangeRecord,
    DeploymentRecord,
    EstateState,
    FaultRecord,
    ServiceRecord,
)
from actiondesk.core.estate import LogLine

T = TypeVar("T")

KEEP = 8  # states whose index is held: the current one of each estate, and the few a mutation just replaced
MEMO_LIMIT = 50_000  # remembered answers per state (a few MiB); past it they are dropped and computed again


class Index:
    """What timeline.py asks of a state, precomputed. Lists here are shared: never change them."""

    __slots__ = (
        "buckets",
        "by_kind",
        "callees",
        "change_by_id",
        "changes",
        "deployed_at",
        "faults",
        "history",
        "kind_times",
        "memo",
        "moments",
        "records",
        "state",
    )

    def __init__(self, state: EstateState) -> None:
        self.state = state
        records: dict[str, ServiceRecord] = {}
        for record in state.services:
            records.setdefault(record.name, record)  # the first of a name, as a scan finds it
        self.records = records
        self.callees = {
            name: tuple(d for d in (*r.depends_on, *r.calls) if d in records) for name, r in records.items()
        }
        history: dict[str, list[DeploymentRecord]] = {}
        for d in state.deployments:
            history.setdefault(d.service, []).append(d)
        self.history = {name: sorted(found, key=lambda d: d.deployed_at) for name, found in history.items()}
        self.deployed_at = {name: [d.deployed_at for d in found] for name, found in self.history.items()}
        changes: dict[str, list[ChangeRecord]] = {}
        for c in state.changes:
            changes.setdefault(c.service, []).append(c)
        # sorted is stable: a subset of the sorted list is that subset sorted, ties in recorded order
        self.changes = {name: sorted(found, key=lambda c: c.at) for name, found in changes.items()}
        self.by_kind: dict[tuple[str, ChangeKind], list[ChangeRecord]] = {}
        for name, found in self.changes.items():
            for c in found:
                self.by_kind.setdefault((name, c.kind), []).append(c)
        self.kind_times = {key: [c.at for c in found] for key, found in self.by_kind.items()}
        self.change_by_id: dict[str, ChangeRecord] = {}
        for c in state.changes:
            self.change_by_id.setdefault(c.id, c)  # the first of an id, as a scan finds it
        faults: dict[str | None, list[FaultRecord]] = {}
        for f in state.faults:
            faults.setdefault(f.service, []).append(f)
        self.faults = faults
        # Every instant at which a deployment, a fault's start or end, or a change takes effect, in order. Each
        # takes effect at its instant (a deployment at deployed_at <= t, a fault on [start, end), a change at
        # at <= t), so whatever the faults, versions, replicas and settings are at t, they are the same at every
        # instant of the same era: the same bisect_right(moments, t).
        moments = [d.deployed_at for d in state.deployments] + [f.start for f in state.faults]
        moments += [c.at for c in state.changes]
        self.moments = sorted(moments + [f.end for f in state.faults if f.end is not None])
        self.memo: dict[tuple[object, ...], object] = {}
        self.buckets: dict[datetime, tuple[LogLine, ...]] = {}  # logs.py's generated buckets, by their start

    def newest_deployment(self, service: str, at: datetime) -> DeploymentRecord | None:
        """The last deployment (in time order) at or before ``at``."""
        times = self.deployed_at.get(service)
        if not times:
            return None
        i = bisect_right(times, at)
        return self.history[service][i - 1] if i else None

    def latest_change(self, service: str, kind: ChangeKind, at: datetime) -> ChangeRecord | None:
        """The last change of ``kind`` (in time order) at or before ``at``."""
        times = self.kind_times.get((service, kind))
        if not times:
            return None
        i = bisect_right(times, at)
        return self.by_kind[service, kind][i - 1] if i else None

    def era(self, at: datetime) -> int:
        """Which stretch between two moments ``at`` falls in (see ``moments``)."""
        return bisect_right(self.moments, at)

    def eras(self, service: str, at: datetime, lag: timedelta) -> tuple[int, ...]:
        """The eras of ``at``, ``at - lag``, ``at - 2 lag``, ... as many hops down as a walk from ``service``
        can go (each service once on a path: at most as many as it reaches)."""
        moments = self.moments
        return tuple(bisect_right(moments, at - lag * hop) for hop in range(len(self.reach(service)) + 1))

    def reach(self, service: str) -> frozenset[str]:
        """Every service ``service`` calls, directly or not, by ``callees``; itself only through a cycle."""
        key = ("reach", service)
        found = self.memo.get(key)
        if found is None:
            seen: set[str] = set()
            stack = list(self.callees.get(service, ()))
            while stack:
                name = stack.pop()
                if name not in seen:
                    seen.add(name)
                    stack.extend(self.callees.get(name, ()))
            found = self.memo[key] = frozenset(seen)
        return cast(frozenset[str], found)

    def remembered(self, key: tuple[object, ...], compute: Callable[[], T]) -> T:
        """The answer kept for ``key``, else ``compute()``'s, kept. ``key`` must name the question and all it
        depends on besides the state."""
        memo = self.memo
        try:
            return cast(T, memo[key])
        except KeyError:
            pass
        value = compute()
        if len(memo) >= MEMO_LIMIT:
            memo.clear()
        memo[key] = value
        return value


_recent: OrderedDict[int, Index] = OrderedDict()
_lock = threading.Lock()


_last: Index | None = None  # the one asked for last: most questions in a row are about the same state


def index(state: EstateState) -> Index:
    """The index of ``state``, built on first use."""
    global _last
    found = _last
    if found is not None and found.state is state:
        return found
    found = _recent.get(id(state))
    if found is not None and found.state is state:
        _last = found
        return found
    built = Index(state)
    with _lock:
        found = _recent.get(id(state))
        if found is not None and found.state is state:
            _last = found
            return found
        _recent[id(state)] = built
        while len(_recent) > KEEP:
            _recent.popitem(last=False)
    _last = built
    return built
