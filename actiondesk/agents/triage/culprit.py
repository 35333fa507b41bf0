"""The change behind an onset: the newest change of any kind (deploy, config, flag, scaling) to the service
where the trouble began, made inside the change window before its onset. A change long before it (hours,
days) or after it is never blamed; neither is a restart, which ActionDesk itself makes, nor a scaling down
that cannot explain what is seen (fewer replicas saturate a service or leave it unready; on their own they do
not make it answer 500s)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from actiondesk.actions.packs.changes import ChangeEntry
from actiondesk.core.finding import Culprit

BLAMEABLE = frozenset({"deploy", "rollback", "config_change", "flag", "scale"})


SATURATION = frozenset({"cpu", "latency", "unready"})


def plausible(change: ChangeEntry, signals: frozenset[str]) -> bool:
    if change.kind != "scale" or change.replicas is None or change.previous_replicas is None:
        return True
    if change.replicas == 0 or change.replicas > change.previous_replicas:
        return True
    return bool(signals & SATURATION)


def suspects(
    changes: Sequence[ChangeEntry], onset: datetime, window: timedelta, signals: frozenset[str]
) -> list[ChangeEntry]:
    """The plausible changes in [onset - window, onset], newest first; ``signals`` are the anomalous ones."""
    found = [c for c in changes if c.kind in BLAMEABLE and onset - window <= c.at <= onset and plausible(c, signals)]
    return sorted(found, key=lambda c: c.at, reverse=True)


def culprit_of(change: ChangeEntry) -> Culprit:
    return change.culprit()


def confidence(lead: timedelta, window: timedelta, *, hops: int, rivals: int, corroborated: bool) -> float:
    """How sure the finding is: a change closer to the onset, fewer hops, no rival change and log lines that
    agree make it surer. Never above 0.97: correlation is not proof."""
    value = 0.9 if lead <= window / 3 else 0.75
    value -= 0.05 * min(hops, 2)
    value -= 0.1 * min(rivals, 2)
    if corroborated:
        value += 0.05
    return round(max(0.5, min(0.97, value)), 2)


def undoing(change: ChangeEntry, history: Sequence[ChangeEntry]) -> ChangeEntry | None:
    """A later change to the same thing that took ``change`` back (the service moved off that version, the key
    or flag was set to another value, the replica count changed again), or None while ``change`` still holds."""
    for later in sorted((c for c in history if c.at > change.at and c.service == change.service), key=lambda c: c.at):
        if change.kind in ("deploy", "rollback") and later.kind in ("deploy", "rollback"):
            if later.version != change.version:
                return later
        elif change.kind == later.kind and change.kind in ("config_change", "flag") and later.key == change.key:
            if later.value != change.value:
                return later
        elif change.kind == later.kind == "scale" and later.replicas != change.replicas:
            return later
    return None
