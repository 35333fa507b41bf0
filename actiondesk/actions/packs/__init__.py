"""Built-in action packs."""

from __future__ import annotations

from actiondesk.actions.catalog import Pack
from actiondesk.actions.packs.access import IDENTITY, VPN
from actiondesk.actions.packs.accounts import ACCOUNTS
from actiondesk.actions.packs.argocd import ARGOCD
from actiondesk.actions.packs.changes import CHANGES
from actiondesk.actions.packs.deployments import DEPLOYMENTS
from actiondesk.actions.packs.groups import GROUPS
from actiondesk.actions.packs.hardware import HARDWARE
from actiondesk.actions.packs.hosts import HOSTS
from actiondesk.actions.packs.inventory import INVENTORY
from actiondesk.actions.packs.kubernetes import KUBERNETES
from actiondesk.actions.packs.loki import LOKI
from actiondesk.actions.packs.prometheus import PROMETHEUS
from actiondesk.actions.packs.telemetry import TELEMETRY


def builtin_packs() -> list[Pack]:
    """The packs over the Inventory, Telemetry, Deployer and Configurator ports (always present)."""
    return [INVENTORY, TELEMETRY, DEPLOYMENTS, CHANGES]


def system_packs() -> list[Pack]:
    """The packs over the other ports; the composition root enables those whose system is configured."""
    return [HOSTS, VPN, IDENTITY, ACCOUNTS, HARDWARE, GROUPS, KUBERNETES, ARGOCD, PROMETHEUS, LOKI]


__all__ = ["builtin_packs", "system_packs"]
