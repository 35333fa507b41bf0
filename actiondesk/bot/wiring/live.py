"""ACTIONDESK_ESTATE: the world the agents read and act on — the sandbox (default), or the live estate built from
the service catalog (ACTIONDESK_SERVICES_FILE), the stored change events and the configured systems."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from actiondesk.adapters.catalog import ReloadingCatalog
from actiondesk.adapters.live import LiveEstate, LiveSystems
from actiondesk.adapters.sandbox import SandboxEstate
from actiondesk.bot.wiring.systems import Systems
from actiondesk.core.errors import ConfigurationError
from actiondesk.core.ports import (
    ChangeLog,
    Clock,
    Configurator,
    Deployer,
    Inventory,
    Telemetry,
)
from actiondesk.core.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class World:
    """The estate's ports as the agents and actions see them."""

    inventory: Inventory
    telemetry: Telemetry
    deployer: Deployer
    configurator: Configurator
    name: str = "sandbox"


def sandbox_world(estate: SandboxEstate) -> World:
    return World(inventory=estate, telemetry=estate, deployer=estate, configurator=estate)


def live_world(settings: Settings, changes: ChangeLog, clock: Clock, systems: Systems) -> World:
    """The live estate over the catalog and the systems whose packs are enabled."""
    if settings.services_file is None:
        raise ConfigurationError(
            "ACTIONDESK_ESTATE=live needs ACTIONDESK_SERVICES_FILE, the service catalog "
            "(check one with `actiondesk services validate FILE`)"
        )
    catalog = ReloadingCatalog(settings.services_file)  # CatalogError (file:line problems) stops the start
    live = LiveSystems(
        metrics=systems.metrics,
        log_search=systems.log_search,
        cluster=systems.cluster,
        releases=systems.releases,
        http=systems.http,
    )
    if live.metrics is None:
        log.warning("live estate without Prometheus (ACTIONDESK_PROMETHEUS_URL): no signal can be read")
    estate = LiveEstate(
        catalog.current,
        changes,
        live,
        clock,
        window=settings.prometheus_window,
        cicd_wait_seconds=settings.cicd_rollback_wait_seconds,
    )
    found = [name for name, port in vars(live).items() if port is not None]
    log.info(
        "live estate: %d services from %s; systems: %s",
        len(catalog.current().entries),
        catalog.path,
        ", ".join(found) or "none",
    )
    return World(inventory=estate, telemetry=estate, deployer=estate, configurator=estate, name="live")


def build_world(settings: Settings, estate: SandboxEstate, changes: ChangeLog, clock: Clock, systems: Systems) -> World:
    if settings.estate == "live":
        return live_world(settings, changes, clock, systems)
    return sandbox_world(estate)
