"""Ports: what the agents and the action space need from the world, as Protocols.

Adapters (the sandbox, the store, Prometheus, Kubernetes, ServiceNow...) implement them; only the
composition root in ``bot/wiring/root.py`` chooses which. One module per domain: ``runtime`` (clock, chat model),
``estate`` (services, signals, deployments, changes, configuration), ``systems`` (what the packs act on),
``people`` (directory, accounts, groups, hardware), ``store`` and ``desk`` (ticket systems, pagers), ``surfaces``
(the reporting reads and the change intake the surfaces are handed); every port is importable from here.
"""

from __future__ import annotations

from actiondesk.core.ports.desk import Pager, TicketSystem
from actiondesk.core.ports.estate import ChangeLog, ChangeReader, Configurator, Deployer, Inventory, Telemetry
from actiondesk.core.ports.people import AccessGroups, Accounts, Directory, Identity, Procurement
from actiondesk.core.ports.runtime import ChatModel, Clock
from actiondesk.core.ports.store import StateBlobs, Store, UnitOfWork
from actiondesk.core.ports.surfaces import ChangeIntake, Reporting, Tally
from actiondesk.core.ports.systems import (
    Cluster,
    HttpOperations,
    LogSearch,
    Metrics,
    Releases,
    Volumes,
    VpnSessions,
)

__all__ = [
    "AccessGroups",
    "Accounts",
    "ChangeIntake",
    "ChangeLog",
    "ChangeReader",
    "ChatModel",
    "Clock",
    "Cluster",
    "Configurator",
    "Deployer",
    "Directory",
    "HttpOperations",
    "Identity",
    "Inventory",
    "LogSearch",
    "Metrics",
    "Pager",
    "Procurement",
    "Releases",
    "Reporting",
    "StateBlobs",
    "Store",
    "Tally",
    "Telemetry",
    "TicketSystem",
    "UnitOfWork",
    "Volumes",
    "VpnSessions",
]
