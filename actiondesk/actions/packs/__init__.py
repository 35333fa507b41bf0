"""Built-in action packs."""

from __future__ import annotations

from actiondesk.actions.catalog import Pack
from actiondesk.actions.packs.deployments import DEPLOYMENTS
from actiondesk.actions.packs.telemetry import TELEMETRY


def builtin_packs() -> list[Pack]:
    return [TELEMETRY, DEPLOYMENTS]


__all__ = ["builtin_packs"]
