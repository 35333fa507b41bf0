"""ServiceNowProcurement: the Procurement port over the Service Catalog API and the sc_request table.

An order is the Service Catalog's "Buy Item": ``POST /api/sn_sc/servicecatalog/items/{sys_id}/order_now`` with
``sysparm_quantity``, answered with the new request's ``request_number`` and ``request_id``. An instance set
for two-step checkout answers a ``cart_id`` instead; the cart is then submitted
(``POST /api/sn_sc/servicecatalog/cart/submit_order``). The request (sc_request) is then stamped through the
Table API with ActionDesk's reference in ``correlation_id`` and what it is in ``correlation_display`` and
``special_instructions``, so a retry finds it by reference before ordering again. Cancelling sets the
request's ``request_state`` to ``closed_cancelled``.

A return is ordered like any item, from the catalog item named ``return_item`` (a "hardware return" item of
the instance); without one, returns are refused with the setting to fix.

Errors leave as SystemUnavailableError (unreachable, 5xx, 408, 409, 429), NotFoundError (404) or
ActionFailedError (any other refusal); no httpx error crosses out.
"""

from __future__ import annotations

import logging
from typing import Any

from actiondesk.adapters.servicenow.client import ServiceNowClient
from actiondesk.core.errors import (
    ActionFailedError,
    NotFoundError,
    SystemUnavailableError,
    TicketRejectedError,
    TicketUnavailableError,
)
from actiondesk.core.fulfilment import HardwareOrder, OrderDraft, OrderKind, OrderStatus

log = logging.getLogger(__name__)

FIELDS = "sys_id,number,request_state,correlation_id,correlation_display"
STATES = {"closed_cancelled": OrderStatus.CANCELLED, "closed_complete": OrderStatus.FULFILLED}


def _display(draft: OrderDraft) -> str:
    """What the request is, in the field meant for another system's own label of it."""
    return f"{draft.kind.value}|{draft.quantity}|{draft.item}|{draft.requested_for}"[:100]


def _order(record: dict[str, Any]) -> HardwareOrder:
    kind, quantity, item, person = ([*str(record.get("correlation_display", "")).split("|"), "", "", "", ""])[:4]
    return HardwareOrder(
        key=str(record["sys_id"]),
        number=str(record.get("number", "")),
        item=item or "?",
        quantity=int(quantity) if quantity.isdigit() else 1,
        requested_for=person,
        reference=str(record.get("correlation_id", "")),
        kind=OrderKind(kind) if kind in ("order", "return") else OrderKind.ORDER,
        status=STATES.get(str(record.get("request_state", "")), OrderStatus.OPEN),
    )


class ServiceNowProcurement:
    def __init__(self, client: ServiceNowClient, *, return_item: str | None = None) -> None:
        self._client = client
        self._return_item = return_item

    def _result(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            return self._client.result(method, path, **kwargs)
        except TicketUnavailableError as exc:
            raise SystemUnavailableError(str(exc), exc.retry_after) from None
        except TicketRejectedError as exc:
            if "answered 404" in str(exc):
                raise NotFoundError(str(exc)) from None
            raise ActionFailedError(str(exc)) from None

    def _rows(self, query: str) -> list[dict[str, Any]]:
        try:
            rows = list(
                self._client.records(
                    "sc_request",
                    {"sysparm_query": f"{query}^ORDERBYsys_created_on", "sysparm_fields": FIELDS},
                )
            )
        except TicketUnavailableError as exc:
            raise SystemUnavailableError(str(exc), exc.retry_after) from None
        except TicketRejectedError as exc:
            raise ActionFailedError(str(exc)) from None
        return rows

    def find_orders(self, *, reference: str | None = None, requested_for: str | None = None) -> list[HardwareOrder]:
        if reference is not None:
            return [_order(r) for r in self._rows(f"correlation_id={reference}")]
        if requested_for is not None:
            rows = self._rows(f"correlation_idSTARTSWITH{requested_for}-")
            return [o for o in map(_order, rows) if o.requested_for == requested_for]
        raise ValueError("find_orders needs a reference or a person")

    def get_order(self, key: str) -> HardwareOrder:
        return _order(self._result("GET", f"/api/now/table/sc_request/{key}", params={"sysparm_fields": FIELDS}))

    def place_order(self, draft: OrderDraft) -> HardwareOrder:
        item = draft.item
        if draft.kind is OrderKind.RETURN:
            if not self._return_item:
                raise ActionFailedError("hardware returns need SERVICENOW_RETURN_ITEM (a return catalog item's sys_id)")
            item = self._return_item
        body = {"sysparm_quantity": str(draft.quantity), "variables": {}}
        placed = self._result("POST", f"/api/sn_sc/servicecatalog/items/{item}/order_now", json=body)
        if not placed.get("request_id") and placed.get("cart_id"):  # two-step checkout: the item went to a cart
            placed = self._result("POST", "/api/sn_sc/servicecatalog/cart/submit_order", json={})
        request_id = placed.get("request_id") or placed.get("sys_id")
        if not request_id:
            raise ActionFailedError(f"ServiceNow placed no request for catalog item {item}: {sorted(placed)}")
        stamp = {
            "correlation_id": draft.reference,
            "correlation_display": _display(draft),
            "special_instructions": draft.note or f"{draft.kind.value} for {draft.requested_for}",
        }
        record = self._result("PATCH", f"/api/now/table/sc_request/{request_id}", json=stamp)
        log.info("servicenow: %s %s placed for %s", draft.kind.value, record.get("number"), draft.requested_for)
        return _order({**record, "sys_id": request_id, "number": record.get("number") or placed.get("request_number")})

    def cancel_order(self, key: str) -> HardwareOrder:
        record = self._result("PATCH", f"/api/now/table/sc_request/{key}", json={"request_state": "closed_cancelled"})
        return _order({**record, "sys_id": key})
