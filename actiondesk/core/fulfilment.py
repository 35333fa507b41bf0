"""Request fulfilment vocabulary: accounts in the identity provider, hardware orders in procurement, and what
the role catalog says a role gets (directory groups, a hardware bundle, licences, privileged groups).

Plain frozen models: an adapter builds them from what its system sends (SCIM JSON, LDAP entries, a
ServiceNow request, the procurement API), so no vendor type crosses a port.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class UserAccount(_Frozen):
    """An account in the identity provider (a SCIM User)."""

    id: str = Field(description="The identity provider's id of the account (its SCIM id): the confirmation id.")
    user_name: str
    external_id: str | None = None
    display_name: str = ""
    email: str = ""
    active: bool = True
    manager: str | None = None
    title: str | None = None
    entitlements: tuple[str, ...] = ()


class NewAccount(_Frozen):
    """What an account is created from. ``external_id`` is the provisioning client's key: it finds it again."""

    user_name: str
    external_id: str
    given_name: str
    family_name: str
    email: str
    active: bool
    manager: str | None = None
    title: str | None = None
    entitlements: tuple[str, ...] = Field(default=(), description="Licences, granted as SCIM entitlements.")

    @property
    def display_name(self) -> str:
        return f"{self.given_name} {self.family_name}".strip()


class OrderKind(StrEnum):
    ORDER = "order"  # new hardware for a person
    RETURN = "return"  # the hardware a person leaves with, to be collected


class OrderStatus(StrEnum):
    OPEN = "open"  # placed, not yet fulfilled
    FULFILLED = "fulfilled"
    CANCELLED = "cancelled"


class HardwareOrder(_Frozen):
    """A request in the procurement system (a procurement API order, or a ServiceNow sc_request)."""

    key: str = Field(description="The system's own id (order id, sys_id).")
    number: str = Field(description="The request number people read (PO-1001, REQ0010001): the confirmation id.")
    item: str
    quantity: int = 1
    requested_for: str
    reference: str = Field(description="ActionDesk's idempotency key: a retry looks the order up by it first.")
    kind: OrderKind = OrderKind.ORDER
    status: OrderStatus = OrderStatus.OPEN

    @property
    def active(self) -> bool:
        return self.status is not OrderStatus.CANCELLED


class OrderDraft(_Frozen):
    item: str
    quantity: int = Field(default=1, ge=1)
    requested_for: str
    reference: str
    kind: OrderKind = OrderKind.ORDER
    note: str = ""


class HardwareItem(_Frozen):
    """One line of a role's hardware bundle: the catalog item of the procurement system in use (a ServiceNow
    catalog item's sys_id, or the procurement API's item code) and how many."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    item: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    quantity: int = Field(default=1, ge=1, le=20)
    description: str = ""


class Role(_Frozen):
    """A job role: what a person in it gets on their first day."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    title: str = ""
    aliases: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    hardware: tuple[HardwareItem, ...] = ()
    licences: tuple[str, ...] = ()
    privileged: dict[str, str] = Field(
        default_factory=dict, description="Privileged groups of this role → the owner group that must approve."
    )


class Hire(_Frozen):
    """A checked onboarding request: who, as what, from when, reporting to whom."""

    user: str
    given_name: str
    family_name: str
    email: str
    role: str
    start: date
    manager: str

    @property
    def key(self) -> str:
        """The hire's idempotency key: the same person starting on the same day is one hire."""
        return f"{self.user}-{self.start:%Y%m%d}"


class Leaver(_Frozen):
    """A checked offboarding request."""

    user: str
    last_day: date

    @property
    def key(self) -> str:
        return f"{self.user}-leaves-{self.last_day:%Y%m%d}"
