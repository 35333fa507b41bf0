"""HttpProcurement: the Procurement port over the procurement API described by ``procurement.openapi.yaml``.

Requests go through the HttpOperations port (the OpenAPI adapter), which validates each one against that
document before it leaves, so a request the API would not take never reaches the network. Answers are read
into HardwareOrder; an answer that does not have the document's shape is an ActionFailedError.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import JsonValue, ValidationError

from actiondesk.core.errors import ActionFailedError
from actiondesk.core.fulfilment import HardwareOrder, OrderDraft
from actiondesk.core.ports import HttpOperations

DOCUMENT = "procurement"  # the name the document is registered under in the HttpOperations adapter
PATH = Path(__file__).with_name("procurement.openapi.yaml")


@cache
def document() -> dict[str, Any]:
    """The OpenAPI document of the procurement API, as shipped with ActionDesk."""
    loaded = yaml.safe_load(PATH.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def _order(body: JsonValue) -> HardwareOrder:
    if not isinstance(body, dict):
        raise ActionFailedError("procurement answered something that is not a request")
    try:
        return HardwareOrder(
            key=str(body["id"]),
            number=str(body["number"]),
            item=str(body["item"]),
            quantity=int(body["quantity"]),  # type: ignore[arg-type]
            requested_for=str(body["requested_for"]),
            reference=str(body["reference"]),
            kind=body["kind"],  # type: ignore[arg-type]
            status=body["status"],  # type: ignore[arg-type]
        )
    except (KeyError, TypeError, ValueError, ValidationError) as exc:
        raise ActionFailedError(f"procurement answered a request without the API's shape: {exc}") from None


class HttpProcurement:
    def __init__(self, http: HttpOperations) -> None:
        self._http = http

    def find_orders(self, *, reference: str | None = None, requested_for: str | None = None) -> list[HardwareOrder]:
        query = {k: v for k, v in (("reference", reference), ("requested_for", requested_for)) if v is not None}
        body = self._http.call(DOCUMENT, "listRequests", path={}, query=query).body
        rows = body.get("requests") if isinstance(body, dict) else None
        if not isinstance(rows, list):
            raise ActionFailedError("procurement answered a list without its requests")
        return [_order(r) for r in rows]

    def get_order(self, key: str) -> HardwareOrder:
        return _order(self._http.call(DOCUMENT, "getRequest", path={"id": key}, query={}).body)

    def place_order(self, draft: OrderDraft) -> HardwareOrder:
        body: dict[str, JsonValue] = {
            "item": draft.item,
            "quantity": draft.quantity,
            "requested_for": draft.requested_for,
            "reference": draft.reference,
            "kind": draft.kind.value,
        }
        if draft.note:
            body["note"] = draft.note[:500]
        return _order(self._http.call(DOCUMENT, "createRequest", path={}, query={}, body=body).body)

    def cancel_order(self, key: str) -> HardwareOrder:
        return _order(self._http.call(DOCUMENT, "cancelRequest", path={"id": key}, query={}).body)
