"""The Hardware agent's actions: orders and returns in the procurement system (ServiceNow Service Catalog, or
the procurement API), and their cancellation.

Every order carries a reference built from the hire (user, start date, item), so a retry or a second request
for the same hire finds the open order instead of placing another. The request number is the confirmation
written to the master ticket.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import date
from functools import partial
from typing import Generic, TypeVar

from pydantic import Field, JsonValue

from actiondesk.actions.catalog import Pack
from actiondesk.actions.packs.accounts import hire_key
from actiondesk.actions.packs.common import UserName
from actiondesk.actions.packs.retrying import with_retries
from actiondesk.actions.spec import ActionContext, ActionInput, ActionOutput, ActionSpec, need
from actiondesk.core.errors import ActionFailedError
from actiondesk.core.fulfilment import HardwareOrder, OrderDraft, OrderKind, OrderStatus
from actiondesk.core.governance import Risk
from actiondesk.core.plan import ActionCall
from actiondesk.core.ports import Procurement

Item = Field(
    min_length=1,
    max_length=64,
    pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
    description="The catalog item: a ServiceNow catalog item's sys_id, or the procurement API's item code.",
)
Reference = Field(min_length=3, max_length=128, pattern=r"^[a-z0-9][a-z0-9._/-]*$", description="An order reference.")


def _procurement(ctx: ActionContext) -> Procurement:
    return need(ctx.procurement, "procurement (ServiceNow, or ACTIONDESK_PROCUREMENT_URL)")


def _open(ctx: ActionContext, reference: str) -> list[HardwareOrder]:
    orders = with_retries(ctx, "procurement", lambda: _procurement(ctx).find_orders(reference=reference))
    return [o for o in orders if o.active]


class UserInput(ActionInput):
    user: UserName


class OrderInput(ActionInput):
    user: UserName
    item: str = Item
    quantity: int = Field(default=1, ge=1, le=20, description="How many.")
    start_date: date = Field(description="The new hire's first day (part of the order's reference).")

    @property
    def reference(self) -> str:
        return f"{hire_key(self.user, self.start_date)}/{self.item}".lower()


class ReturnInput(ActionInput):
    user: UserName
    order: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", description="Order key.")
    last_day: date = Field(description="The leaver's last day (part of the return's reference).")

    @property
    def reference(self) -> str:
        return f"{self.user}-leaves-{self.last_day:%Y%m%d}/{self.order}".lower()


class CancelInput(ActionInput):
    user: UserName
    reference: str = Reference


class OrderOutput(ActionOutput):
    order: HardwareOrder
    confirmation: str = Field(description="The request number.")
    already: bool = False

    def summary(self) -> str:
        o = self.order
        how = "already placed" if self.already else o.status.value
        return f"{o.kind.value} {o.number}: {o.quantity} x {o.item} for {o.requested_for} ({how})"


class OrdersOutput(ActionOutput):
    orders: tuple[HardwareOrder, ...]

    def summary(self) -> str:
        return f"{len(self.orders)} hardware orders"


class _OnPerson:
    target_kind = "person"
    pack = "hardware"

    def target(self, params: ActionInput) -> str:
        return str(getattr(params, "user", ""))


class GetHardwareOrders(_OnPerson, ActionSpec[UserInput, OrdersOutput]):
    name = "get_hardware_orders"
    description = "The hardware orders and returns placed for a person in the procurement system."
    scope = "hardware:read"
    risk = Risk.READ
    input_model = UserInput
    output_model = OrdersOutput

    def run(self, ctx: ActionContext, params: UserInput) -> OrdersOutput:
        found = with_retries(ctx, "procurement", lambda: _procurement(ctx).find_orders(requested_for=params.user))
        return OrdersOutput(orders=tuple(found))


Placed = TypeVar("Placed", OrderInput, ReturnInput)


class _Place(_OnPerson, ABC, Generic[Placed]):
    scope = "hardware:write"
    risk = Risk.MEDIUM
    output_model = OrderOutput
    kind: OrderKind

    @abstractmethod
    def _draft(self, params: Placed) -> OrderDraft:
        """The order (or return) to place for ``params``."""

    def observe(self, ctx: ActionContext, params: Placed) -> dict[str, JsonValue]:
        found = _open(ctx, params.reference)
        return {"reference": params.reference, "open": [o.number for o in found]}

    def already_done(self, observed: dict[str, JsonValue], params: Placed) -> bool:
        return bool(observed.get("open"))

    def snapshot(self, ctx: ActionContext, params: Placed) -> dict[str, JsonValue]:
        return self.observe(ctx, params)

    def inverse(self, snapshot: dict[str, JsonValue], params: Placed) -> ActionCall | None:
        return ActionCall(action="cancel_hardware_order", params={"user": params.user, "reference": params.reference})

    def run(self, ctx: ActionContext, params: Placed) -> OrderOutput:
        procurement = _procurement(ctx)

        def attempt() -> OrderOutput:
            found = [o for o in procurement.find_orders(reference=params.reference) if o.active]
            if found:  # placed by an earlier attempt whose answer was lost, or by an earlier request
                return OrderOutput(order=found[0], confirmation=found[0].number, already=True)
            placed = procurement.place_order(self._draft(params))
            return OrderOutput(order=placed, confirmation=placed.number)

        return with_retries(ctx, "procurement", attempt)

    def verify(self, ctx: ActionContext, params: Placed, output: OrderOutput) -> str | None:
        read = with_retries(ctx, "procurement", lambda: _procurement(ctx).get_order(output.order.key))
        if read.status is OrderStatus.CANCELLED:
            return f"{read.number} reads back cancelled"
        if read.reference != params.reference:
            return f"{read.number} reads back with reference {read.reference!r}, not {params.reference!r}"
        return None


class OrderHardware(_Place[OrderInput], ActionSpec[OrderInput, OrderOutput]):
    name = "order_hardware"
    description = "Order a catalog item (a laptop, a monitor) for a new hire through the procurement system."
    input_model = OrderInput
    kind = OrderKind.ORDER

    def _draft(self, params: OrderInput) -> OrderDraft:
        return OrderDraft(
            item=params.item,
            quantity=params.quantity,
            requested_for=params.user,
            reference=params.reference,
            note=f"New hire {params.user}, starting {params.start_date.isoformat()}",
        )


class ReturnHardware(_Place[ReturnInput], ActionSpec[ReturnInput, OrderOutput]):
    name = "return_hardware"
    description = "Open the return of the hardware a leaver was given (one order of theirs) in procurement."
    input_model = ReturnInput
    kind = OrderKind.RETURN

    def _draft(self, params: ReturnInput) -> OrderDraft:
        return OrderDraft(
            item=params.order,
            quantity=1,
            requested_for=params.user,
            reference=params.reference,
            kind=OrderKind.RETURN,
            note=f"Collect the hardware of order {params.order} from {params.user} after {params.last_day}",
        )


class CancelHardwareOrder(_OnPerson, ActionSpec[CancelInput, OrderOutput]):
    name = "cancel_hardware_order"
    description = "Cancel the open hardware order (or return) placed under a reference (the undo of an order)."
    scope = "hardware:write"
    risk = Risk.MEDIUM
    destructive = True
    input_model = CancelInput
    output_model = OrderOutput

    def observe(self, ctx: ActionContext, params: CancelInput) -> dict[str, JsonValue]:
        found = _open(ctx, params.reference)
        return {"reference": params.reference, "open": [o.key for o in found]}

    def drift(self, observed: dict[str, JsonValue], params: CancelInput) -> str | None:
        return None if observed.get("open") else f"no open order under {params.reference}; nothing to cancel"

    def already_done(self, observed: dict[str, JsonValue], params: CancelInput) -> bool:
        return not observed.get("open")

    def snapshot(self, ctx: ActionContext, params: CancelInput) -> dict[str, JsonValue]:
        found = _open(ctx, params.reference)
        return {"orders": [o.model_dump(mode="json") for o in found]}

    def inverse(self, snapshot: dict[str, JsonValue], params: CancelInput) -> ActionCall | None:
        orders = snapshot.get("orders")
        if not isinstance(orders, list) or not orders or not isinstance(orders[0], dict):
            return None
        order = HardwareOrder.model_validate(orders[0])
        if order.kind is OrderKind.RETURN:
            return None  # a return is opened again from the offboarding, not from a snapshot
        start = params.reference.split("/", 1)[0].rsplit("-", 1)[-1]
        return ActionCall(
            action="order_hardware",
            params={
                "user": params.user,
                "item": order.item,
                "quantity": order.quantity,
                "start_date": f"{start[:4]}-{start[4:6]}-{start[6:8]}",
            },
        )

    def run(self, ctx: ActionContext, params: CancelInput) -> OrderOutput:
        procurement = _procurement(ctx)
        found = _open(ctx, params.reference)
        if not found:
            raise ActionFailedError(f"no open order under {params.reference}")
        done = [with_retries(ctx, "procurement", partial(procurement.cancel_order, o.key)) for o in found]
        return OrderOutput(order=done[0], confirmation=", ".join(o.number for o in done))

    def verify(self, ctx: ActionContext, params: CancelInput, output: OrderOutput) -> str | None:
        left = _open(ctx, params.reference)
        return None if not left else f"{', '.join(o.number for o in left)} still open"


HARDWARE = Pack(
    name="hardware",
    scopes=frozenset({"hardware:read", "hardware:write"}),
    actions=(GetHardwareOrders(), OrderHardware(), ReturnHardware(), CancelHardwareOrder()),
    service_account="actiondesk-procurement",
    description="Hardware requests in the procurement system: the Hardware agent.",
)
