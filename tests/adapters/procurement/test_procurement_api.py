"""HttpProcurement through the OpenAPI-validated HTTP adapter against the procurement fake, which holds both
sides to the document ActionDesk ships: orders and returns placed, found by reference, read back, cancelled;
a request the document refuses never leaves; outages and refusals are ours."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from procurementfake import FakeProcurement, procurement_api

from actiondesk.adapters.openapi import Document, OpenApiOperations
from actiondesk.adapters.procurement import DOCUMENT, HttpProcurement, document
from actiondesk.core.errors import ActionFailedError, InvalidParametersError, NotFoundError, SystemUnavailableError
from actiondesk.core.fulfilment import OrderDraft, OrderKind, OrderStatus


@pytest.fixture
def fake() -> Iterator[FakeProcurement]:
    with procurement_api() as running:
        yield running


def _client(fake: FakeProcurement, token: str | None = None) -> HttpProcurement:
    spec = Document(spec=document(), base_url=fake.url, token=token or fake.token)
    return HttpProcurement(OpenApiOperations({DOCUMENT: spec}, timeout=5))


DRAFT = OrderDraft(item="laptop-standard", quantity=1, requested_for="jdoe", reference="jdoe-20261109/laptop-standard")


def test_orders_and_returns_round_trip(fake: FakeProcurement):
    procurement = _client(fake)
    order = procurement.place_order(DRAFT)
    assert (order.number, order.status, order.kind) == ("PR-5001", OrderStatus.OPEN, OrderKind.ORDER)
    back = procurement.place_order(
        DRAFT.model_copy(update={"kind": OrderKind.RETURN, "reference": "jdoe-leaves-20261113/r5001", "item": "r5001"})
    )
    assert back.kind is OrderKind.RETURN
    assert procurement.find_orders(reference=DRAFT.reference) == [order]
    assert [o.number for o in procurement.find_orders(requested_for="jdoe")] == ["PR-5001", "PR-5002"]
    assert procurement.get_order(order.key) == order
    assert procurement.cancel_order(order.key).status is OrderStatus.CANCELLED
    assert fake.problems == []


def test_a_request_the_document_refuses_never_leaves(fake: FakeProcurement):
    procurement = _client(fake)
    with pytest.raises(InvalidParametersError, match="does not match the API"):
        procurement.place_order(DRAFT.model_copy(update={"requested_for": "Not A User"}))
    with pytest.raises(InvalidParametersError):
        procurement.find_orders(reference="UPPER CASE")
    assert fake.calls == []


def test_outages_unknown_orders_and_a_wrong_token(fake: FakeProcurement):
    with pytest.raises(NotFoundError):
        _client(fake).get_order("r404")
    with pytest.raises(ActionFailedError, match="401") as caught:
        _client(fake, token="wrong-token").find_orders(reference=DRAFT.reference)
    assert "wrong-token" not in str(caught.value)
    fake.outage = True
    with pytest.raises(SystemUnavailableError, match="503"):
        _client(fake).place_order(DRAFT)
