"""Reading onboarding and offboarding requests, and the role catalog: every field checked, every failure named."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from actiondesk.adapters.sandbox import SandboxEstate, default_estate
from actiondesk.agents.fulfilment.forms import (
    HireForm,
    check_hire,
    read_date,
    read_offboarding,
    read_onboarding,
)
from actiondesk.agents.fulfilment.plans import offboarding_plan, onboarding_plan
from actiondesk.agents.fulfilment.roles import RoleCatalog
from actiondesk.core.clock import SimulatedClock
from actiondesk.core.errors import ConfigurationError, InvalidRequestError
from actiondesk.core.fulfilment import HardwareOrder, OrderKind, OrderStatus

MONDAY = date(2026, 11, 2)
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def directory() -> SandboxEstate:
    return SandboxEstate(default_estate(T0), SimulatedClock(T0))


@pytest.fixture
def roles() -> RoleCatalog:
    return RoleCatalog.load()


def test_a_chat_request_is_read_field_by_field():
    form = read_onboarding("Onboard Jane Doe as a data analyst, starting 2026-12-14, manager bob, username jdoe2")
    assert form == HireForm(name="Jane Doe", role="data analyst", start="2026-12-14", manager="bob", user="jdoe2")
    other = read_onboarding("please onboard Ana María López as Sales Rep from Monday reporting to frank")
    assert (other.name, other.role, other.start, other.manager) == ("Ana María López", "Sales Rep", "Monday", "frank")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-14", date(2026, 12, 14)),
        ("today", MONDAY),
        ("tomorrow", date(2026, 11, 3)),
        ("Friday", date(2026, 11, 6)),
        ("monday", date(2026, 11, 9)),
        ("14 December 2026", date(2026, 12, 14)),
        ("December 14", date(2026, 12, 14)),
        ("Jan 5", date(2027, 1, 5)),
        ("next week-ish", None),
        ("2026-13-01", None),
    ],
)
def test_dates_as_people_write_them(text: str, expected: date | None):
    assert read_date(text, MONDAY) == expected


def test_a_good_form_becomes_a_hire_with_derived_user_name_and_email(roles, directory):
    hire = check_hire(
        HireForm(name="Ana María López", role="sales representative", start="Monday", manager="frank"),
        roles,
        directory,
        MONDAY,
    )
    assert (hire.user, hire.email, hire.role, hire.start, hire.manager) == (
        "alopez",
        "ana.lopez@example.com",
        "sales-rep",
        date(2026, 11, 9),
        "frank",
    )
    assert hire.key == "alopez-20261109"


def test_every_bad_field_is_named(roles, directory):
    with pytest.raises(InvalidRequestError) as caught:
        check_hire(HireForm(name="Jane", role="astronaut", start="2026-10-01", manager="zed"), roles, directory, MONDAY)
    assert set(caught.value.fields) == {"name", "role", "start", "manager"}
    assert "data-analyst, sales-rep, sre" in caught.value.fields["role"]
    assert "in the past" in caught.value.fields["start"]
    with pytest.raises(InvalidRequestError) as caught:
        check_hire(
            HireForm(name="Bob Smith", role="sre", start="soon", manager="bob", user="bob", email="nope"),
            roles,
            directory,
            MONDAY,
        )
    assert set(caught.value.fields) == {"start", "user", "email"}
    with pytest.raises(InvalidRequestError, match="pick a role"):
        check_hire(HireForm(name="A B", start="today", manager="bob"), roles, directory, MONDAY)


def test_offboarding_reads_a_user_or_a_name_and_a_last_day():
    assert read_offboarding("offboard jdoe, last day Friday", MONDAY).model_dump() == {
        "user": "jdoe",
        "last_day": date(2026, 11, 6),
    }
    assert read_offboarding("offboard Jane Doe", MONDAY).user == "jdoe"
    assert read_offboarding("offboard Jane Doe", MONDAY).last_day == MONDAY
    with pytest.raises(InvalidRequestError, match="last_day"):
        read_offboarding("offboard jdoe, last day 2020-01-01", MONDAY)
    with pytest.raises(InvalidRequestError, match="user"):
        read_offboarding("offboard", MONDAY)


def test_the_onboarding_plan_fans_out_to_three_agents(roles, directory):
    hire = check_hire(HireForm(name="Sam Lee", role="sre", start="2026-11-09", manager="bob"), roles, directory, MONDAY)
    plan = onboarding_plan(hire, roles.roles["sre"], MONDAY)
    assert [(s.agent, s.call.action) for s in plan.steps] == [
        ("identity", "create_account"),
        ("hardware", "order_hardware"),
        ("access", "add_to_group"),
        ("access", "add_to_group"),
        ("access", "add_to_group"),
        ("identity", "enable_account"),
    ]
    assert plan.steps[-1].not_before == datetime(2026, 11, 9, tzinfo=UTC)
    assert "privileged: cab approves" in plan.steps[4].rationale
    started = onboarding_plan(hire.model_copy(update={"start": MONDAY}), roles.roles["sre"], MONDAY)
    assert started.steps[-1].call.action == "add_to_group", "no switch-on step when the hire starts today"


def test_the_offboarding_plan_returns_first_and_removes_access_after_the_last_day():
    order = HardwareOrder(key="o1", number="PO-1", item="laptop", requested_for="jdoe", reference="r/x")
    gone = order.model_copy(update={"key": "o2", "status": OrderStatus.CANCELLED})
    back = order.model_copy(update={"key": "o3", "kind": OrderKind.RETURN})
    from actiondesk.core.fulfilment import Leaver

    plan = offboarding_plan(Leaver(user="jdoe", last_day=date(2026, 11, 6)), ["analytics"], [order, gone, back])
    assert [(s.call.action, s.not_before) for s in plan.steps] == [
        ("return_hardware", None),
        ("disable_account", datetime(2026, 11, 7, tzinfo=UTC)),
        ("remove_from_group", datetime(2026, 11, 7, tzinfo=UTC)),
    ]


def test_a_role_catalog_that_does_not_hold_together_is_refused(tmp_path: Path):
    bad = tmp_path / "roles.yaml"
    bad.write_text("roles:\n  ops:\n    groups: [a]\n    privileged: {b: owners}\n")
    with pytest.raises(ConfigurationError, match="privileged group b is not one of its groups"):
        RoleCatalog.load(bad)
    bad.write_text(
        "roles:\n  one:\n    groups: [a]\n    privileged: {a: x}\n  two:\n    groups: [a]\n    privileged: {a: y}\n"
    )
    with pytest.raises(ConfigurationError, match="two owners"):
        RoleCatalog.load(bad)
    bad.write_text("roles:\n  Bad Name:\n    groups: [a]\n")
    with pytest.raises(ConfigurationError, match="role name"):
        RoleCatalog.load(bad)
    bad.write_text("roles:\n  ops:\n    hardware: [{item: '', quantity: 0}]\n")
    with pytest.raises(ConfigurationError, match="role ops"):
        RoleCatalog.load(bad)
    with pytest.raises(ConfigurationError, match="cannot read"):
        RoleCatalog.load(tmp_path / "missing.yaml")
    bad.write_text("[not, a, mapping]")
    with pytest.raises(ConfigurationError, match="roles"):
        RoleCatalog.load(bad)
