"""ServiceNowProcurement against the local ServiceNow instance: order_now on a catalog item (one-step and
two-step checkout), the request stamped with ActionDesk's reference and found by it again, cancellation, and
each failure as one of ours."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from ticketfake_http import ThreadedServer
from ticketfake_snow import PASSWORD, USER, FakeServiceNow, fake_servicenow

from actiondesk.adapters.servicenow import BasicAuth, ServiceNowClient, ServiceNowProcurement
from actiondesk.core.errors import ActionFailedError, NotFoundError, SystemUnavailableError
from actiondesk.core.fulfilment import OrderDraft, OrderKind, OrderStatus

LAPTOP = "5a1e0c0b2f1d4e2c9d0b1a2c3d4e5f60"


@pytest.fixture
def snow() -> Iterator[tuple[ThreadedServer, FakeServiceNow]]:
    with fake_servicenow() as (server, fake):
        fake.catalog_items.add(LAPTOP)
        yield server, fake


def _procurement(server: ThreadedServer, return_item: str | None = None) -> ServiceNowProcurement:
    return ServiceNowProcurement(ServiceNowClient(server.url, BasicAuth(USER, PASSWORD)), return_item=return_item)


DRAFT = OrderDraft(item=LAPTOP, quantity=1, requested_for="jdoe", reference="jdoe-20261109/" + LAPTOP, note="x")


def test_order_now_stamps_the_request_and_finds_it_by_reference(snow):
    server, fake = snow
    procurement = _procurement(server)
    order = procurement.place_order(DRAFT)
    assert order.number.startswith("REQ")
    assert (order.item, order.requested_for, order.reference, order.status) == (
        LAPTOP,
        "jdoe",
        DRAFT.reference,
        OrderStatus.OPEN,
    )
    (posted,) = [r for r in fake.requests if r[1].endswith("/order_now")]
    assert posted[3] == {"sysparm_quantity": "1", "variables": {}}
    assert fake.tables["sc_request"][order.key]["correlation_id"] == DRAFT.reference
    assert procurement.find_orders(reference=DRAFT.reference) == [order]
    assert procurement.find_orders(requested_for="jdoe") == [order]
    assert procurement.find_orders(reference="someone-else/x") == []
    cancelled = procurement.cancel_order(order.key)
    assert cancelled.status is OrderStatus.CANCELLED
    assert procurement.get_order(order.key).status is OrderStatus.CANCELLED


def test_two_step_checkout_submits_the_cart(snow):
    server, fake = snow
    fake.two_step = True
    order = _procurement(server).place_order(DRAFT)
    assert [p for _, p, _, _ in fake.requests if "servicecatalog" in p][-1].endswith("/cart/submit_order")
    assert fake.ordered == [(LAPTOP, "1")]
    assert order.number.startswith("REQ")


def test_returns_need_a_return_item_and_failures_are_ours(snow):
    server, fake = snow
    back = DRAFT.model_copy(update={"kind": OrderKind.RETURN, "reference": "jdoe-leaves-20261113/x"})
    with pytest.raises(ActionFailedError, match="SERVICENOW_RETURN_ITEM"):
        _procurement(server).place_order(back)
    assert _procurement(server, return_item=LAPTOP).place_order(back).kind is OrderKind.RETURN
    with pytest.raises(NotFoundError):
        _procurement(server).place_order(DRAFT.model_copy(update={"item": "0" * 32}))
    fake.fail(503, {"Retry-After": "7"})
    with pytest.raises(SystemUnavailableError) as caught:
        _procurement(server).find_orders(reference=DRAFT.reference)
    assert caught.value.retry_after == 7
    server.down()
    with pytest.raises(SystemUnavailableError, match="unreachable"):
        _procurement(server).place_order(DRAFT)
