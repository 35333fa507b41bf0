"""Onboarding and offboarding end to end against real systems: a scim2-server (identity), OpenLDAP (slapd, the
groups), the procurement API (a fake held to ActionDesk's OpenAPI document) and a JSM site as the master ticket.

A chat request becomes one request case; the account, the orders and the memberships exist and are read back
from the systems themselves; their ids are in the thread and in the ticket. A retried request creates nothing
twice; a procurement outage stops the chain with a compensation offer; a privileged group waits for its owner;
offboarding reverses all three.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from livesystems import LiveLdap, LiveScim
from procurementfake import FakeProcurement, procurement_api
from ticketfake_jsm import DESK, EMAIL, REQUEST_TYPE, TOKEN, FakeJsm, fake_jsm
from ticketfake_snow import PASSWORD as SNOW_PASSWORD
from ticketfake_snow import USER as SNOW_USER
from ticketfake_snow import fake_servicenow

from actiondesk.adapters.ldap import LdapGroups
from actiondesk.adapters.sandbox import SandboxEstate, default_estate
from actiondesk.adapters.scim import ScimAccounts
from actiondesk.adapters.store import SqlStore
from actiondesk.bot.jobs.mirroring import deliver_before_exit
from actiondesk.bot.wiring.root import Runtime, build_runtime, policy_from_settings
from actiondesk.core.audit import AuditKind
from actiondesk.core.case import CaseStatus
from actiondesk.core.clock import SimulatedClock
from actiondesk.core.errors import NotAuthorizedError
from actiondesk.core.fulfilment import NewAccount
from actiondesk.core.settings import Settings

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # a Monday
REQUEST = "onboard Jane Doe as data analyst, starting 2026-11-09, manager bob"


@dataclass
class World:
    runtime: Runtime
    clock: SimulatedClock
    scim: ScimAccounts
    ldap: LdapGroups
    live_ldap: LiveLdap
    procurement: FakeProcurement
    jsm: FakeJsm

    def say(self, text: str, user: str = "bob") -> str:
        case = self.runtime.loop.open_case(text, user, surface="console")
        self.runtime.loop.run(case.id)
        return case.id

    def thread(self, case_id: str) -> str:
        return "\n".join(
            str(e.payload.get("text", "")) for e in self.runtime.store.audit(case_id) if e.kind is AuditKind.MESSAGE
        )

    def ticket(self) -> str:
        assert deliver_before_exit(self.runtime, "test") == 0
        return "\n".join(c["body"] for issue in self.jsm.issues.values() for c in issue["comments"])


def live_settings(
    database_url: str, scim_url: str, scim_token: str, ldap: LiveLdap, groups_base: str, template: str, **more: object
) -> Settings:
    """People's accounts run on their own (tier 3 at level 3); SCIM and LDAP are the live servers."""
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=database_url,
        autonomy={"tier:3": 3},
        scim_url=scim_url,
        scim_token=scim_token,
        ldap_url=ldap.url,
        ldap_bind_dn=ldap.admin_dn,
        ldap_password=ldap.password,
        ldap_groups_base=groups_base,
        ldap_user_dn=template,
        outbox_drain_seconds=20.0,
        **more,
    )


@pytest.fixture
def world(live_scim: LiveScim, live_ldap: LiveLdap, store: SqlStore, database_url: str) -> Iterator[World]:
    scim_url = live_scim.tenant()
    scim = ScimAccounts(scim_url, live_scim.token)
    scim.create_account(
        NewAccount(user_name="bob", external_id="bob", given_name="Bob", family_name="B", email="bob@example.com",
                   active=True)
    )  # fmt: skip
    groups_base, template = live_ldap.tree(
        {g: ("bob",) for g in ("vpn-users", "analytics", "warehouse-readers", "engineering", "prod-db-admins")}
    )
    with procurement_api() as procurement, fake_jsm() as (jsm_server, jsm):
        settings = live_settings(
            database_url,
            scim_url,
            live_scim.token,
            live_ldap,
            groups_base,
            template,
            procurement_url=procurement.url,
            procurement_token=procurement.token,
            jsm_base_url=jsm_server.url,
            jsm_email=EMAIL,
            jsm_api_token=TOKEN,
            jsm_service_desk_id=DESK,
            jsm_request_type_id=REQUEST_TYPE,
        )
        clock = SimulatedClock(T0)
        estate = SandboxEstate(default_estate(T0), clock)
        runtime = build_runtime(settings, store, estate, clock, policy_from_settings(settings))
        ldap = LdapGroups(live_ldap.url, live_ldap.admin_dn, live_ldap.password, groups_base, user_template=template)
        yield World(runtime, clock, scim, ldap, live_ldap, procurement, jsm)
        assert procurement.problems == [], "every request matched the procurement API's OpenAPI document"


def test_a_chat_request_creates_the_account_orders_and_groups_with_their_ids_in_the_thread_and_ticket(world: World):
    case_id = world.say(REQUEST)
    case = world.runtime.store.get_case(case_id)
    assert case.status is CaseStatus.SCHEDULED  # everything done but the account's switch-on, due on the 9th

    account = world.scim.find_account(external_id="jdoe-20261109")
    assert account is not None
    assert (account.user_name, account.email, account.active) == ("jdoe", "jane.doe@example.com", False)
    assert account.entitlements == ("office-365", "tableau")
    orders = world.procurement.active()
    assert sorted((o["item"], o["requested_for"], o["reference"]) for o in orders) == [
        ("laptop-standard", "jdoe", "jdoe-20261109/laptop-standard"),
        ("monitor-27", "jdoe", "jdoe-20261109/monitor-27"),
    ]
    for group in ("vpn-users", "analytics", "warehouse-readers"):
        assert "jdoe" in world.ldap.group_members(group)
        assert "uid=jdoe," in world.live_ldap.ldapsearch(world.ldap.group_ref(group), "(objectClass=*)", "member")

    thread = world.thread(case_id)
    ticket = world.ticket()
    for confirmation in (account.id, *(o["number"] for o in orders), world.ldap.group_ref("analytics")):
        assert confirmation in thread
        assert confirmation in ticket

    world.clock.set(datetime(2026, 11, 9, 0, 0, tzinfo=UTC))
    assert [c.id for c in world.runtime.loop.due()] == [case_id]
    assert world.runtime.loop.wake(case_id).status is CaseStatus.RESOLVED
    assert world.scim.get_account(account.id).active


def test_the_same_request_again_creates_nothing_twice(world: World):
    first = world.say(REQUEST)
    account = world.scim.find_account(user_name="jdoe")
    assert account is not None
    calls = len(world.procurement.calls)
    second = world.say(REQUEST)
    assert world.runtime.store.get_case(second).status is CaseStatus.SCHEDULED
    assert len(world.procurement.orders) == 2
    assert [c for c in world.procurement.calls[calls:] if c[0] == "POST"] == []
    assert world.scim.find_account(user_name="jdoe") == account
    assert world.runtime.store.get_case(first).status is CaseStatus.SCHEDULED
    plan = world.runtime.store.get_case(second).plan
    assert plan is not None
    done = [s.result for s in plan.steps if s.result]
    assert all(r.get("already") for r in done), "every step found what the first request made"


def test_a_procurement_outage_stops_the_chain_and_offers_compensation(world: World):
    world.procurement.outage = True
    case_id = world.say(REQUEST)
    case = world.runtime.store.get_case(case_id)
    assert case.status is CaseStatus.FAILED
    assert case.plan is not None
    statuses = [s.status.value for s in case.plan.steps]
    assert statuses[:2] == ["succeeded", "failed"]
    assert set(statuses[2:]) == {"proposed"}, "nothing after the failed step ran"
    account = world.scim.find_account(user_name="jdoe")
    assert account is not None
    thread = world.thread(case_id)
    assert "gave up after 3 attempts" in thread
    assert f"Completed: create_account jdoe ({account.id})" in thread
    assert f"actiondesk compensate {case_id}" in thread
    assert world.ldap.groups_of("jdoe") == []

    undo = world.runtime.fulfilment.compensate(case_id, "bob")
    assert world.runtime.loop.run(undo.id).status is CaseStatus.RESOLVED
    assert not world.scim.get_account(account.id).active
    assert f"case {undo.id}" in world.thread(case_id)


def test_a_privileged_group_waits_for_its_owner_and_never_for_the_requester(world: World):
    case_id = world.say("onboard Sam Lee as sre, starting 2026-11-09, manager bob", user="erin")
    case = world.runtime.store.get_case(case_id)
    assert case.status is CaseStatus.AWAITING_APPROVAL
    (approval,) = world.runtime.store.approvals(case_id)
    assert (approval.call.action, approval.call.params["group"], approval.group) == (
        "add_to_group",
        "prod-db-admins",
        "cab",
    )
    assert "access.privileged_group" in approval.policy_ids
    assert "slee" not in world.ldap.group_members("prod-db-admins")
    with pytest.raises(NotAuthorizedError, match="requested"):
        world.runtime.approvals.decide(approval.id, "erin", True, None)
    with pytest.raises(NotAuthorizedError):
        world.runtime.approvals.decide(approval.id, "bob", True, None)  # sre, not the owner group
    world.runtime.approvals.decide(approval.id, "carol", True, None)
    assert world.runtime.loop.run(case_id).status is CaseStatus.SCHEDULED
    assert "slee" in world.ldap.group_members("prod-db-admins")


def test_offboarding_reverses_all_three(world: World):
    world.say(REQUEST)
    world.clock.set(datetime(2026, 11, 9, 8, 0, tzinfo=UTC))
    for case in world.runtime.loop.due():
        world.runtime.loop.wake(case.id)
    account = world.scim.find_account(user_name="jdoe")
    assert account is not None
    assert account.active

    leaving = world.say("offboard jdoe, last day 2026-11-13", user="bob")
    assert world.runtime.store.get_case(leaving).status is CaseStatus.SCHEDULED
    returns = [o for o in world.procurement.active() if o["kind"] == "return"]
    assert len(returns) == 2, "a return is opened for each order at once"
    assert world.scim.get_account(account.id).active, "the account works until the last day is over"

    world.clock.set(datetime(2026, 11, 14, 0, 0, tzinfo=UTC))
    assert world.runtime.loop.wake(leaving).status is CaseStatus.RESOLVED
    assert not world.scim.get_account(account.id).active
    assert world.ldap.groups_of("jdoe") == []
    thread = world.thread(leaving)
    assert all(r["number"] in thread for r in returns)


def test_with_servicenow_the_laptop_is_ordered_from_the_service_catalog_and_the_incident_has_the_ids(
    live_scim: LiveScim, live_ldap: LiveLdap, store: SqlStore, database_url: str, tmp_path
):
    laptop = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
    roles = tmp_path / "roles.yaml"
    roles.write_text(f"roles:\n  analyst:\n    groups: [analytics]\n    hardware: [{{item: {laptop}}}]\n")
    groups_base, template = live_ldap.tree({"analytics": ("bob",)})
    with fake_servicenow() as (server, snow):
        snow.catalog_items.add(laptop)
        settings = live_settings(
            database_url,
            live_scim.tenant(),
            live_scim.token,
            live_ldap,
            groups_base,
            template,
            roles_file=roles,
            servicenow_instance_url=server.url,
            servicenow_username=SNOW_USER,
            servicenow_password=SNOW_PASSWORD,
        )
        clock = SimulatedClock(T0)
        runtime = build_runtime(
            settings, store, SandboxEstate(default_estate(T0), clock), clock, policy_from_settings(settings)
        )
        case = runtime.loop.open_case("onboard Jane Doe as analyst, starting today, manager bob", "bob")
        assert runtime.loop.run(case.id).status is CaseStatus.RESOLVED
        (request,) = snow.tables["sc_request"].values()
        assert (request["correlation_id"], snow.ordered) == (f"jdoe-20261102/{laptop}", [(laptop, "1")])
        assert deliver_before_exit(runtime, "test") == 0
        (incident,) = snow.tables["incident"].values()
        notes = "\n".join(e["value"] for e in snow.journal(incident["sys_id"]))
        assert request["number"] in notes
        account = ScimAccounts(settings.scim_url or "", live_scim.token).find_account(user_name="jdoe")
        assert account is not None
        assert account.active, "starting today: active at once"
        assert account.id in notes
