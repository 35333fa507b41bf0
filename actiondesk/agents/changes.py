"""The change intake: what CI/CD deployed, reconfigured, flagged or scaled, checked and stored for triage to
read. The webhooks (bot/webhooks) translate each sender's body into a ChangeEvent and come here; the rules —
which services exist, what is a secret, once per id, audited — live here once."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime

from actiondesk.core.catalog import ChangeEvent
from actiondesk.core.errors import UnknownServiceError
from actiondesk.core.ports import ChangeLog, Clock, Inventory
from actiondesk.core.redact import REDACTED, redact_text, secret_name

log = logging.getLogger(__name__)


def scrubbed(event: ChangeEvent) -> ChangeEvent:
    """The event with no secret in it: the value of a secret-looking key (``DB_PASSWORD``, ``api_token``) is
    never stored, only that it changed; tokens and ``password=...`` in any text are redacted."""

    def clean(text: str | None) -> str | None:
        return None if text is None else redact_text(text)

    value, previous = clean(event.value), clean(event.previous_value)
    if event.key is not None and secret_name(event.key):
        value = None if value is None else REDACTED
        previous = None if previous is None else REDACTED
    return replace(
        event,
        version=clean(event.version),
        previous_version=clean(event.previous_version),
        value=value,
        previous_value=previous,
        author=redact_text(event.author),
        url=redact_text(event.url),
    )


class ChangeDesk:
    """The ChangeIntake port over the change log, the estate's inventory and the clock."""

    def __init__(self, changes: ChangeLog, inventory: Inventory, clock: Clock) -> None:
        self._changes = changes
        self._inventory = inventory
        self._clock = clock

    def now(self) -> datetime:
        return self._clock.now()

    def service(self, name: str) -> str:
        services = self._inventory.services()
        for service in services:
            if service.name == name:
                return name
        for service in services:
            if name in service.aliases:
                return service.name
        known = ", ".join(s.name for s in services)
        raise UnknownServiceError(f"service {name!r} is not in the estate (known: {known})")

    def record(self, event: ChangeEvent, actor: str) -> tuple[ChangeEvent, bool]:
        stored, created = self._changes.record_change(scrubbed(event), actor=actor, received_at=self._clock.now())
        if created:
            log.info("change %s: %s of %s recorded from %s", stored.id, stored.kind, stored.service, stored.source)
        return stored, created


__all__ = ["ChangeDesk", "scrubbed"]
