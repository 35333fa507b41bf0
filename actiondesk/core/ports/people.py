"""People and what they are given: the directory, accounts at the identity provider, groups, hardware orders."""

from __future__ import annotations

from typing import Protocol

from actiondesk.core.estate import Person
from actiondesk.core.fulfilment import HardwareOrder, NewAccount, OrderDraft, UserAccount
from actiondesk.core.systems import (
    Account,
)


class Directory(Protocol):
    """People and their groups. Chat identities map to people by chat id, else by email."""

    def person(self, name: str) -> Person | None: ...

    def members(self, group: str) -> frozenset[str]: ...

    def people(self) -> list[Person]: ...

    def find_person(
        self, slack_user_id: str | None = None, email: str | None = None, teams_aad_object_id: str | None = None
    ) -> Person | None: ...


class Identity(Protocol):
    """Accounts in the identity provider. No password ever crosses this port: a reset sends the person a
    one-time link out of band, and cancelling that ticket puts the previous credential back in force."""

    def account(self, user: str) -> Account: ...

    def reset_password(self, user: str) -> Account: ...

    def cancel_reset(self, user: str, ticket: str) -> Account: ...


class Accounts(Protocol):
    """Accounts in the identity provider (SCIM 2.0). Raise SystemUnavailableError when the provider is
    unreachable or failing (the call may succeed later), ActionFailedError when it refuses; never a vendor error."""

    def find_account(self, *, external_id: str | None = None, user_name: str | None = None) -> UserAccount | None:
        """The account with that externalId (or userName), if there is one."""
        ...

    def get_account(self, account_id: str) -> UserAccount:
        """Raise NotFoundError when there is no account with that id."""
        ...

    def create_account(self, account: NewAccount) -> UserAccount: ...

    def set_active(self, account_id: str, active: bool) -> UserAccount: ...


class Procurement(Protocol):
    """Hardware requests in the procurement system (ServiceNow Service Catalog, or the procurement API).
    Raise SystemUnavailableError / ActionFailedError like Accounts."""

    def find_orders(self, *, reference: str | None = None, requested_for: str | None = None) -> list[HardwareOrder]:
        """Orders (and returns) placed under ``reference``, or for a person; oldest first, cancelled ones too."""
        ...

    def get_order(self, key: str) -> HardwareOrder:
        """Raise NotFoundError."""
        ...

    def place_order(self, draft: OrderDraft) -> HardwareOrder: ...

    def cancel_order(self, key: str) -> HardwareOrder: ...


class AccessGroups(Protocol):
    """Group membership in the directory (LDAP, Active Directory). Raise SystemUnavailableError /
    ActionFailedError like Accounts; NotFoundError for a group that does not exist."""

    def group_ref(self, group: str) -> str:
        """The group's own id in the directory (its DN): the confirmation of a membership."""
        ...

    def group_members(self, group: str) -> frozenset[str]:
        """The user names of the group's members (lower case)."""
        ...

    def groups_of(self, user: str) -> list[str]:
        """The groups (under the configured base) the user is a member of, by name."""
        ...

    def add_member(self, group: str, user: str) -> None: ...

    def remove_member(self, group: str, user: str) -> None: ...
