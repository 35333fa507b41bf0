"""The sandbox's identity provider, procurement system and group directory, over the estate's state.

They answer like the real systems behind the same ports (SCIM, the procurement API, LDAP) would: accounts
have ids and externalIds, orders have request numbers and references, groups have members. An ``unavailable``
fault on a system (a scenario's ``{fault: {system: procurement, kind: unavailable}}``) makes every call to it
raise SystemUnavailableError while it lasts, as an outage would.
"""

from __future__ import annotations

from actiondesk.adapters.sandbox.estate import SandboxEstate
from actiondesk.adapters.sandbox.timeline import digest
from actiondesk.adapters.sandbox.world import AccountRecord, EstateState, FaultKind, PurchaseRequest
from actiondesk.core.errors import ActionFailedError, NotFoundError, SystemUnavailableError
from actiondesk.core.fulfilment import HardwareOrder, NewAccount, OrderDraft, OrderKind, OrderStatus, UserAccount
from actiondesk.core.ports import Clock


def _account(record: AccountRecord) -> UserAccount:
    return UserAccount.model_validate(record.model_dump())


def _order(record: PurchaseRequest) -> HardwareOrder:
    return HardwareOrder(
        key=record.id,
        number=record.number,
        item=record.item,
        quantity=record.quantity,
        requested_for=record.requested_for,
        reference=record.reference,
        kind=OrderKind(record.kind),
        status=OrderStatus(record.status) if record.status in OrderStatus.__members__.values() else OrderStatus.OPEN,
    )


class SandboxFulfilment:
    """Accounts, Procurement and AccessGroups on the sandbox estate."""

    def __init__(self, estate: SandboxEstate, clock: Clock) -> None:
        self._estate = estate
        self._clock = clock

    def _up(self, system: str) -> EstateState:
        """The state, unless an unavailable fault on ``system`` is active now."""
        state = self._estate.current()
        now = self._clock.now()
        for fault in state.faults:
            if (
                fault.kind is FaultKind.UNAVAILABLE
                and fault.system == system
                and fault.start <= now
                and (fault.end is None or now < fault.end)
            ):
                raise SystemUnavailableError(f"{system} is unavailable (503 Service Unavailable)")
        return state

    # -- Accounts ---------------------------------------------------------------------------------------
    def find_account(self, *, external_id: str | None = None, user_name: str | None = None) -> UserAccount | None:
        state = self._up("identity")
        for record in state.accounts.values():
            if (external_id is not None and record.external_id == external_id) or (
                user_name is not None and record.user_name.lower() == user_name.lower()
            ):
                return _account(record)
        return None

    def get_account(self, account_id: str) -> UserAccount:
        record = self._up("identity").accounts.get(account_id)
        if record is None:
            raise NotFoundError(f"the identity provider has no account {account_id}")
        return _account(record)

    def create_account(self, account: NewAccount) -> UserAccount:
        self._up("identity")

        def create(state: EstateState) -> tuple[EstateState, AccountRecord]:
            if any(r.user_name.lower() == account.user_name.lower() for r in state.accounts.values()):
                raise ActionFailedError(f"the identity provider already has a user named {account.user_name}")
            manager = next((r for r in state.accounts.values() if r.user_name == account.manager), None)
            record = AccountRecord(
                id=digest("account", account.user_name, account.external_id, len(state.accounts))[:16],
                user_name=account.user_name,
                external_id=account.external_id,
                display_name=account.display_name,
                email=account.email,
                active=account.active,
                manager=manager.user_name if manager else None,
                title=account.title,
                entitlements=account.entitlements,
            )
            return state.model_copy(update={"accounts": {**state.accounts, record.id: record}}), record

        return _account(self._estate.change(create))

    def set_active(self, account_id: str, active: bool) -> UserAccount:
        self._up("identity")

        def flip(state: EstateState) -> tuple[EstateState, AccountRecord]:
            record = state.accounts.get(account_id)
            if record is None:
                raise NotFoundError(f"the identity provider has no account {account_id}")
            record = record.model_copy(update={"active": active})
            return state.model_copy(update={"accounts": {**state.accounts, account_id: record}}), record

        return _account(self._estate.change(flip))

    # -- Procurement ------------------------------------------------------------------------------------
    def find_orders(self, *, reference: str | None = None, requested_for: str | None = None) -> list[HardwareOrder]:
        state = self._up("procurement")
        return [
            _order(r)
            for r in state.erp
            if (reference is None or r.reference == reference)
            and (requested_for is None or r.requested_for == requested_for)
        ]

    def get_order(self, key: str) -> HardwareOrder:
        for record in self._up("procurement").erp:
            if record.id == key:
                return _order(record)
        raise NotFoundError(f"procurement has no order {key}")

    def place_order(self, draft: OrderDraft) -> HardwareOrder:
        self._up("procurement")
        now = self._clock.now()

        def place(state: EstateState) -> tuple[EstateState, PurchaseRequest]:
            sequence = 1001 + len(state.erp)
            record = PurchaseRequest(
                id=digest("order", draft.reference, sequence)[:16],
                requester="actiondesk",
                item=draft.item,
                quantity=draft.quantity,
                status=OrderStatus.OPEN.value,
                created_at=now,
                number=f"{'RET' if draft.kind is OrderKind.RETURN else 'PO'}-{sequence}",
                reference=draft.reference,
                kind=draft.kind.value,
                requested_for=draft.requested_for,
            )
            return state.model_copy(update={"erp": (*state.erp, record)}), record

        return _order(self._estate.change(place))

    def cancel_order(self, key: str) -> HardwareOrder:
        self._up("procurement")

        def cancel(state: EstateState) -> tuple[EstateState, PurchaseRequest]:
            found = next((r for r in state.erp if r.id == key), None)
            if found is None:
                raise NotFoundError(f"procurement has no order {key}")
            if found.status == OrderStatus.FULFILLED.value:
                raise ActionFailedError(f"order {found.number} was already fulfilled; it cannot be cancelled")
            done = found.model_copy(update={"status": OrderStatus.CANCELLED.value})
            return state.model_copy(update={"erp": tuple(done if r.id == key else r for r in state.erp)}), done

        return _order(self._estate.change(cancel))

    # -- AccessGroups -----------------------------------------------------------------------------------
    def _group(self, state: EstateState, group: str) -> tuple[str, ...]:
        if group not in state.groups:
            raise NotFoundError(f"the directory has no group {group!r}")
        return state.groups[group]

    def group_ref(self, group: str) -> str:
        return f"cn={group},ou=groups,dc=sandbox"

    def group_members(self, group: str) -> frozenset[str]:
        return frozenset(m.lower() for m in self._group(self._up("directory"), group))

    def groups_of(self, user: str) -> list[str]:
        state = self._up("directory")
        return sorted(g for g, members in state.groups.items() if user.lower() in (m.lower() for m in members))

    def _set(self, group: str, user: str, member: bool) -> None:
        self._up("directory")

        def update(state: EstateState) -> tuple[EstateState, None]:
            members = tuple(m for m in self._group(state, group) if m.lower() != user.lower())
            if member:
                members = (*members, user)
            return state.model_copy(update={"groups": {**state.groups, group: members}}), None

        self._estate.change(update)

    def add_member(self, group: str, user: str) -> None:
        self._set(group, user, True)

    def remove_member(self, group: str, user: str) -> None:
        self._set(group, user, False)
