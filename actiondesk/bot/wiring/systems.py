"""The managed systems behind the action packs: which are configured, their adapters, their credentials.

Each pack's adapter is built with that pack's own service-account secret (ACTIONDESK_PACK_CREDENTIALS, by
the credential name the pack declares). A configured system whose pack needs a credential that is not set
is a ConfigurationError naming the pack, the service account and the setting; the secret itself is never
logged or shown.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from actiondesk.actions.catalog import Pack
from actiondesk.actions.declarative import builtin_pack_files, load_pack, read_pack_file
from actiondesk.actions.packs import builtin_packs, system_packs
from actiondesk.actions.spec import ActionContext
from actiondesk.adapters.argocd import ArgoCd
from actiondesk.adapters.identity import AccountBook
from actiondesk.adapters.kubernetes import KubernetesCluster
from actiondesk.adapters.ldap import LdapGroups
from actiondesk.adapters.loki import LokiLogs
from actiondesk.adapters.openapi import Document, OpenApiOperations
from actiondesk.adapters.procurement import DOCUMENT, HttpProcurement
from actiondesk.adapters.procurement import document as procurement_document
from actiondesk.adapters.prometheus import PrometheusMetrics
from actiondesk.adapters.sandbox import SandboxEstate
from actiondesk.adapters.sandbox.fulfilment import SandboxFulfilment
from actiondesk.adapters.sandbox.staples import SandboxStaples
from actiondesk.adapters.scim import ScimAccounts
from actiondesk.adapters.servicenow import ServiceNowProcurement
from actiondesk.bot.wiring.tickets import servicenow_client
from actiondesk.core.errors import ConfigurationError
from actiondesk.core.ports import (
    AccessGroups,
    Accounts,
    Clock,
    Cluster,
    Configurator,
    Deployer,
    HttpOperations,
    Identity,
    Inventory,
    LogSearch,
    Metrics,
    Procurement,
    Releases,
    StateBlobs,
    Telemetry,
    Volumes,
    VpnSessions,
)
from actiondesk.core.settings import Settings

log = logging.getLogger(__name__)

URL_SETTINGS = {
    "kubernetes": "kubernetes_url",
    "argocd": "argocd_url",
    "prometheus": "prometheus_url",
    "loki": "loki_url",
}


@dataclass(frozen=True)
class PackPlan:
    pack: Pack
    url: str | None  # where its system is; None: off (see ``why``) or the sandbox
    why: str | None = None  # why it is off
    path: Path | None = None  # its pack file, for a declarative pack

    @property
    def enabled(self) -> bool:
        return self.why is None


@dataclass
class Fulfilment:
    """The request-fulfilment agents' systems: identity provider, procurement, directory groups."""

    accounts: Accounts
    procurement: Procurement
    groups: AccessGroups


@dataclass
class Systems:
    """The enabled system packs and the ports their actions use (None: that system is not configured)."""

    fulfilment: Fulfilment
    volumes: Volumes
    vpn: VpnSessions
    identity: Identity
    packs: list[Pack] = field(default_factory=list)
    cluster: Cluster | None = None
    releases: Releases | None = None
    metrics: Metrics | None = None
    log_search: LogSearch | None = None
    http: HttpOperations | None = None

    def context(
        self, inventory: Inventory, telemetry: Telemetry, deployer: Deployer, configurator: Configurator, clock: Clock
    ) -> ActionContext:
        """The actions' run context: the estate's ports beside these systems'."""
        return ActionContext(
            inventory=inventory,
            telemetry=telemetry,
            deployer=deployer,
            configurator=configurator,
            clock=clock,
            cluster=self.cluster,
            metrics=self.metrics,
            log_search=self.log_search,
            releases=self.releases,
            volumes=self.volumes,
            vpn=self.vpn,
            identity=self.identity,
            http=self.http,
            accounts=self.fulfilment.accounts,
            procurement=self.fulfilment.procurement,
            groups=self.fulfilment.groups,
        )


def secret(settings: Settings, pack: Pack) -> str | None:
    """The pack's credential; ConfigurationError when the pack requires one that is not set."""
    name = pack.credential or pack.name
    value = settings.pack_credentials.get(name)
    if value is None and pack.credential is not None:
        raise ConfigurationError(
            f"pack {pack.name}: missing credential {name!r} for service account {pack.service_account} "
            f'(set ACTIONDESK_PACK_CREDENTIALS, e.g. {{"{name}": "..."}})'
        )
    return value.get_secret_value() if value is not None else None


def http_pack_files(settings: Settings) -> list[Path]:
    files = builtin_pack_files()
    if settings.pack_dir is not None:
        files += sorted(p for p in settings.pack_dir.glob("*.yaml") if not p.name.endswith(".openapi.yaml"))
    return files


def plan_packs(settings: Settings) -> list[PackPlan]:
    """Every known pack and whether it is on. Raises ConfigurationError for a bad pack file, or for a pack
    that is configured but lacks its credential."""
    plans = [PackPlan(p, None) for p in builtin_packs()]
    for pack in system_packs():
        setting = URL_SETTINGS.get(pack.name)
        if setting is None:
            plans.append(PackPlan(pack, None))
            continue
        url = getattr(settings, setting)
        if not url:
            plans.append(PackPlan(pack, None, f"not configured: set ACTIONDESK_{setting.upper()}"))
            continue
        secret(settings, pack)
        plans.append(PackPlan(pack, url))
    for path in http_pack_files(settings):
        pack = load_pack(path)
        url = settings.pack_urls.get(pack.name)
        if not url:
            why = f'not configured: set ACTIONDESK_PACK_URLS {{"{pack.name}": URL}}'
            plans.append(PackPlan(pack, None, why, path))
            continue
        secret(settings, pack)
        plans.append(PackPlan(pack, url, None, path))
    return plans


def build_systems(settings: Settings, estate: SandboxEstate, blobs: StateBlobs, clock: Clock) -> Systems:
    """The enabled system packs (the skeleton's packs are not included) and the ports their actions use."""
    staples = SandboxStaples(estate, clock)
    systems = Systems(
        fulfilment=fulfilment_ports(settings, estate, clock),
        volumes=staples,
        vpn=staples,
        identity=AccountBook([p.name for p in estate.people()], blobs),
    )
    documents: dict[str, Document] = {}
    skeleton = {p.name for p in builtin_packs()}
    for plan in plan_packs(settings):
        pack = plan.pack
        if not plan.enabled or pack.name in skeleton:
            continue
        systems.packs.append(pack)
        if plan.url is None:
            continue
        token = secret(settings, pack)
        if plan.path is not None:
            _, document = read_pack_file(plan.path)
            documents[pack.name] = Document(spec=document, base_url=plan.url, token=token)
        elif pack.name == "kubernetes":
            systems.cluster = KubernetesCluster.connect(plan.url, token or "")
        elif pack.name == "argocd":
            systems.releases = ArgoCd(plan.url, token or "")
        elif pack.name == "prometheus":
            systems.metrics = PrometheusMetrics(plan.url, token)
        elif pack.name == "loki":
            systems.log_search = LokiLogs(plan.url, token)
        log.info("pack %s enabled (service account %s)", pack.name, pack.service_account)
    if documents:
        systems.http = OpenApiOperations(documents)
    return systems


def fulfilment_ports(settings: Settings, estate: SandboxEstate, clock: Clock) -> Fulfilment:
    """The identity provider (SCIM), procurement (ServiceNow's Service Catalog when ServiceNow is configured,
    else the procurement API) and directory (LDAP) the request-fulfilment agents use; the sandbox's for each
    one that is not configured."""
    sandbox = SandboxFulfilment(estate, clock)
    ports = Fulfilment(accounts=sandbox, procurement=sandbox, groups=sandbox)
    if settings.scim_url:
        if settings.scim_token is None:
            raise ConfigurationError("ACTIONDESK_SCIM_URL is set but ACTIONDESK_SCIM_TOKEN (its bearer token) is not")
        ports.accounts = ScimAccounts(settings.scim_url, settings.scim_token.get_secret_value())
        log.info("identity provider: SCIM at %s", settings.scim_url)
    if settings.servicenow_instance_url:
        ports.procurement = ServiceNowProcurement(
            servicenow_client(settings), return_item=settings.servicenow_return_item
        )
        log.info("procurement: ServiceNow Service Catalog")
    elif settings.procurement_url:
        token = settings.procurement_token.get_secret_value() if settings.procurement_token else None
        api = OpenApiOperations(
            {DOCUMENT: Document(spec=procurement_document(), base_url=settings.procurement_url, token=token)}
        )
        ports.procurement = HttpProcurement(api)
        log.info("procurement: the procurement API at %s", settings.procurement_url)
    if settings.ldap_url:
        missing = [
            name
            for name, value in (
                ("ACTIONDESK_LDAP_BIND_DN", settings.ldap_bind_dn),
                ("ACTIONDESK_LDAP_PASSWORD", settings.ldap_password),
                ("ACTIONDESK_LDAP_GROUPS_BASE", settings.ldap_groups_base),
            )
            if not value
        ]
        if missing:
            raise ConfigurationError(f"ACTIONDESK_LDAP_URL is set but {', '.join(missing)} is not")
        assert settings.ldap_password is not None
        try:
            ports.groups = LdapGroups(
                settings.ldap_url,
                settings.ldap_bind_dn or "",
                settings.ldap_password.get_secret_value(),
                settings.ldap_groups_base or "",
                user_template=settings.ldap_user_dn,
            )
        except ValueError as exc:
            raise ConfigurationError(f"ACTIONDESK_LDAP_USER_DN: {exc}") from None
        log.info("directory: LDAP at %s, groups under %s", settings.ldap_url, settings.ldap_groups_base)
    return ports
