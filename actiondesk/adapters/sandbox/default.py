"""The default estate: a small online shop with a payment gateway, its database, checkout and search."""

from __future__ import annotations

from datetime import datetime, timedelta

from actiondesk.adapters.sandbox.timeline import digest
from actiondesk.adapters.sandbox.world import (
    AccountRecord,
    DeploymentRecord,
    EstateState,
    LogVolume,
    OwnerRecord,
    PersonRecord,
    PurchaseRequest,
    ServiceRecord,
    SessionStatus,
    VpnState,
)

_SERVICES: tuple[ServiceRecord, ...] = (
    ServiceRecord(
        name="payment-gateway",
        owner=OwnerRecord(team="payments", group="payments-oncall"),
        tier=1,
        environment="production",
        version="v2.4.1",
        depends_on=("orders-db",),
        aliases=("payment gateway", "payments", "payment-gw", "payment service"),
        description="Takes card payments for the shop and routes them to the acquirer",
        baseline_error_rate=0.004,
        baseline_latency_ms=180.0,
        replicas=4,
    ),
    ServiceRecord(
        name="orders-db",
        owner=OwnerRecord(team="data", group="dba-oncall"),
        tier=0,
        environment="production",
        version="v15.4",
        aliases=("orders database", "orders db", "order database", "orders postgres"),
        description="PostgreSQL database of orders and their payment status",
        baseline_error_rate=0.002,
        baseline_latency_ms=120.0,
        replicas=3,
    ),
    ServiceRecord(
        name="checkout",
        owner=OwnerRecord(team="storefront", group="storefront-oncall"),
        tier=1,
        environment="production",
        version="v3.12.0",
        depends_on=("payment-gateway",),
        aliases=("checkout service", "check-out", "checkout page"),
        description="The shop's checkout: basket total, delivery and placing the order",
        baseline_error_rate=0.003,
        baseline_latency_ms=240.0,
        replicas=6,
    ),
    ServiceRecord(
        name="search",
        owner=OwnerRecord(team="search", group="search-oncall"),
        tier=3,
        environment="staging",
        version="v1.8.2",
        aliases=("search service", "search api", "site search"),
        description="Product search and autocomplete for the shop",
        baseline_error_rate=0.005,
        baseline_latency_ms=150.0,
        replicas=2,
    ),
)

# (service, version, commit, author, days before start, hour of day)
_HISTORY: tuple[tuple[str, str, str, str, int, int], ...] = (
    ("payment-gateway", "v2.3.9", "4e1d7a0", "dave", 12, 14),
    ("payment-gateway", "v2.4.0", "b82c5f3", "erin", 6, 10),
    ("payment-gateway", "v2.4.1", "c7d19e4", "dave", 3, 16),
    ("orders-db", "v15.3", "1a9f0c2", "bob", 41, 11),
    ("orders-db", "v15.4", "e5b3d68", "bob", 9, 9),
    ("checkout", "v3.11.4", "7c2e9b1", "erin", 10, 13),
    ("checkout", "v3.11.5", "0d4a6f8", "dave", 5, 15),
    ("checkout", "v3.12.0", "a3f8e27", "erin", 2, 11),
    ("search", "v1.8.0", "6b0e4d9", "bob", 8, 10),
    ("search", "v1.8.2", "f19c3a5", "bob", 4, 17),
)

_PEOPLE: dict[str, PersonRecord] = {
    "alice": PersonRecord(
        email="alice@example.com",
        groups=("support",),
        slack_user_id="U0ALICE",
        teams_aad_object_id="6a1c2f0e-4b1d-4e8a-9c3f-0a11ce000001",
    ),
    "bob": PersonRecord(
        email="bob@example.com",
        groups=("sre",),
        slack_user_id="U0BOB",
        teams_aad_object_id="6a1c2f0e-4b1d-4e8a-9c3f-0b0b00000002",
    ),
    "carol": PersonRecord(
        email="carol@example.com",
        groups=("cab",),
        slack_user_id="U0CAROL",
        teams_aad_object_id="6a1c2f0e-4b1d-4e8a-9c3f-0ca201000003",
    ),
    "dave": PersonRecord(
        email="dave@example.com",
        groups=("sre",),
        slack_user_id="U0DAVE",
        teams_aad_object_id="6a1c2f0e-4b1d-4e8a-9c3f-0dafe0000004",
    ),
    "erin": PersonRecord(
        email="erin@example.com",
        groups=("cab", "sre"),
        slack_user_id="U0ERIN",
        teams_aad_object_id="6a1c2f0e-4b1d-4e8a-9c3f-0e1a10000005",
    ),
    "frank": PersonRecord(
        email="frank@example.com",
        groups=("sales",),
        slack_user_id="U0FRANK",
        teams_aad_object_id="6a1c2f0e-4b1d-4e8a-9c3f-0f4a0c000006",
    ),
    # On call for the services they own (see each service's owner).
    "grace": PersonRecord(
        email="grace@example.com",
        groups=("payments-oncall", "sre"),
        slack_user_id="U0GRACE",
        teams_aad_object_id="6a1c2f0e-4b1d-4e8a-9c3f-06ace0000007",
    ),
    "heidi": PersonRecord(
        email="heidi@example.com",
        groups=("storefront-oncall", "search-oncall"),
        slack_user_id="U0HEIDI",
        teams_aad_object_id="6a1c2f0e-4b1d-4e8a-9c3f-0e1d10000008",
    ),
    "ivan": PersonRecord(
        email="ivan@example.com",
        groups=("dba-oncall", "sre"),
        slack_user_id="U0IVAN",
        teams_aad_object_id="6a1c2f0e-4b1d-4e8a-9c3f-01a400000009",
    ),
}

_VOLUMES: tuple[LogVolume, ...] = (
    LogVolume(host="worker-1", path="/var/log", used_pct=62.0),
    LogVolume(host="worker-2", path="/var/log", used_pct=41.0),
)

_VPN = VpnState(
    name="corp-vpn",
    gateway="vpn.example.com",
    sessions={"alice": SessionStatus.ACTIVE, "frank": SessionStatus.ACTIVE, "dave": SessionStatus.ACTIVE},
)


# The directory groups of the sandbox (what an LDAP server would hold): name -> members.
_GROUPS: dict[str, tuple[str, ...]] = {
    "vpn-users": ("alice", "bob", "dave", "erin", "frank"),
    "engineering": ("bob", "dave", "erin"),
    "prod-db-admins": ("bob",),
    "analytics": (),
    "warehouse-readers": (),
    "sales": ("frank",),
    "crm-users": ("frank",),
}


def _orders(day: datetime) -> tuple[PurchaseRequest, ...]:
    """Hardware people were given when they joined (what an offboarding returns)."""
    given = (("frank", "laptop-light", 0), ("dave", "laptop-dev", 1))
    return tuple(
        PurchaseRequest(
            id=digest("order", person, item)[:16],
            requester="it",
            item=item,
            status="fulfilled",
            created_at=day - timedelta(days=400),
            number=f"PO-{901 + i}",
            reference=f"{person}-joined/{item}",
            requested_for=person,
        )
        for person, item, i in given
    )


def _accounts() -> dict[str, AccountRecord]:
    """An identity-provider account for every person of the default directory."""
    records = [
        AccountRecord(
            id=digest("account", name)[:16],
            user_name=name,
            display_name=name.title(),
            email=person.email,
            active=True,
        )
        for name, person in _PEOPLE.items()
    ]
    return {r.id: r for r in records}


def seeded_deployment(service: str, version: str, commit: str, author: str, at: datetime) -> DeploymentRecord:
    return DeploymentRecord(
        id="dep-" + digest(service, version, commit, at.isoformat())[:10],
        service=service,
        version=version,
        commit=commit,
        deployed_at=at,
        author=author,
    )


def default_estate(start: datetime) -> EstateState:
    """The estate as it stands at ``start`` (simulated second 0 of a scenario, or now for ``serve``)."""
    day = start.replace(hour=0, minute=0, second=0, microsecond=0)
    deployments = tuple(
        seeded_deployment(service, version, commit, author, day - timedelta(days=days) + timedelta(hours=hour))
        for service, version, commit, author, days, hour in _HISTORY
    )
    return EstateState(
        services=_SERVICES,
        deployments=deployments,
        volumes=_VOLUMES,
        vpn=_VPN,
        people=dict(_PEOPLE),
        accounts=_accounts(),
        erp=_orders(day),
        groups=dict(_GROUPS),
    )
