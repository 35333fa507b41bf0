from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from actiondesk.actions.catalog import Catalog
from actiondesk.actions.packs import builtin_packs
from actiondesk.actions.packs.access import IDENTITY, VPN
from actiondesk.actions.packs.hosts import HOSTS
from actiondesk.agents.governance import Governance, PolicyData, Window, load_policies
from actiondesk.core.errors import UnknownServiceError
from actiondesk.core.estate import Service
from actiondesk.core.governance import Outcome
from actiondesk.core.plan import ActionCall

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)

SERVICES = {
    s.name: s
    for s in (
        Service("payment-gateway", 1, "production", "v2.5.0", ("orders-db",)),
        Service("orders-db", 0, "production", "v15.4"),
        Service("checkout", 1, "production", "v3.1.0", ("payment-gateway",)),
        Service("search", 3, "staging", "v1.2.0"),
    )
}


class Inventory:
    def service(self, name: str) -> Service:
        try:
            return SERVICES[name]
        except KeyError:
            raise UnknownServiceError(name) from None

    def services(self) -> list[Service]:
        return list(SERVICES.values())


def rollback(service: str) -> ActionCall:
    return ActionCall(action="rollback_deployment", params={"service": service, "to_version": "v1.0.0"})


def decide(call: ActionCall, policy: PolicyData | None = None, at: datetime = NOW, confidence: float | None = 0.95):
    gov = Governance(Catalog(builtin_packs()), Inventory(), policy or PolicyData())
    return gov.decide(call, at, confidence=confidence)


# The excessive-agency table: (service, autonomy overrides, freeze?) -> outcome, approver group.
TABLE = [
    ("payment-gateway", {}, False, Outcome.APPROVE, "sre"),  # production default: level 1
    ("search", {}, False, Outcome.ALLOW, None),  # staging default: level 2 (guarded), medium risk
    ("search", {"search": 0}, False, Outcome.SUGGEST, None),
    ("search", {"tier:3": 1}, False, Outcome.APPROVE, "sre"),
    ("payment-gateway", {"payment-gateway": 2}, False, Outcome.APPROVE, "sre"),  # guarded asks for production
    ("payment-gateway", {"payment-gateway": 3}, False, Outcome.ALLOW, None),
    ("orders-db", {"orders-db": 3}, False, Outcome.APPROVE, "sre"),  # tier 0 is never autonomous
    ("payment-gateway", {"payment-gateway": 3}, True, Outcome.APPROVE, "cab"),  # freeze: CAB
    ("payment-gateway", {}, True, Outcome.APPROVE, "cab"),
    ("checkout", {}, True, Outcome.APPROVE, "cab"),  # the freeze on payment-gateway covers its dependents
    ("search", {}, True, Outcome.ALLOW, None),  # a freeze holds production changes only
]


# Confidence-gated autonomy: (autonomy overrides, thresholds, confidence) -> outcome on payment-gateway.
CONFIDENCE = [
    ({"payment-gateway": 3}, {}, 0.95, Outcome.ALLOW),
    ({"payment-gateway": 3}, {}, 0.9, Outcome.ALLOW),  # at the threshold runs
    ({"payment-gateway": 3}, {}, 0.6, Outcome.APPROVE),
    ({"payment-gateway": 3}, {}, None, Outcome.APPROVE),  # no diagnosis behind the call, nobody asked for it
    ({"payment-gateway": 3}, {"payment-gateway": 0.97}, 0.95, Outcome.APPROVE),  # a stricter service
    ({"payment-gateway": 3}, {"tier:1": 0.5}, 0.6, Outcome.ALLOW),  # a laxer tier
    ({"payment-gateway": 3}, {"tier:1": 0.5, "payment-gateway": 0.7}, 0.6, Outcome.APPROVE),  # most specific wins
    ({"payment-gateway": 1}, {}, 0.99, Outcome.APPROVE),  # confidence never lifts a level
]


@pytest.mark.parametrize(("autonomy", "thresholds", "confidence", "outcome"), CONFIDENCE)
def test_level_3_acts_alone_only_at_or_above_the_threshold(autonomy, thresholds, confidence, outcome):
    decision = decide(
        rollback("payment-gateway"), PolicyData(autonomy=autonomy, confidence=thresholds), NOW, confidence
    )
    assert decision.outcome is outcome
    if autonomy["payment-gateway"] == 3:
        assert decision.confidence == (confidence or 0.0)
        gate = "ladder.autonomous.unsure" in decision.policy_ids
        assert gate is (outcome is Outcome.APPROVE)
        assert any(r.startswith("the diagnosis is") for r in decision.reasons)
        assert any(i.startswith("confidence.threshold") for i in decision.policy_ids)
    if outcome is Outcome.APPROVE:
        assert decision.approver_group == "sre"


def test_a_call_a_person_asked_for_counts_as_sure():
    policy = PolicyData(autonomy={"payment-gateway": 3})
    gov = Governance(Catalog(builtin_packs()), Inventory(), policy)
    decision = gov.decide(rollback("payment-gateway"), NOW, requested=True)
    assert (decision.outcome, decision.confidence) == (Outcome.ALLOW, 1.0)


@pytest.mark.parametrize(("service", "autonomy", "frozen", "outcome", "group"), TABLE)
def test_decision_table(service, autonomy, frozen, outcome, group):
    freezes = (Window("Holiday freeze", NOW - timedelta(hours=1), NOW + timedelta(days=1), ("payment-gateway",)),)
    policy = PolicyData(autonomy=autonomy, freezes=freezes if frozen else ())
    decision = decide(rollback(service), policy)
    assert decision.outcome is outcome
    assert decision.approver_group == group
    assert decision.policy_ids, "every decision names the rules that decided it"
    assert decision.policy_hash == load_policies().hash, "the hash of the Cedar policy set it used"


def test_reads_are_allowed():
    decision = decide(ActionCall(action="get_error_rate", params={"service": "orders-db"}))
    assert decision.outcome is Outcome.ALLOW


def test_unknown_action_fails_closed():
    decision = decide(ActionCall(action="delete_everything", params={}))
    assert decision.outcome is Outcome.DENY
    assert "unknown action" in decision.reasons[0]


def test_hallucinated_parameters_fail_closed():
    decision = decide(ActionCall(action="rollback_deployment", params={"service": "prod; rm -rf /", "to_version": "x"}))
    assert decision.outcome is Outcome.DENY


def test_unknown_service_fails_closed():
    decision = decide(rollback("mystery"))
    assert decision.outcome is Outcome.DENY


def test_chaos_day_means_suggest_only():
    chaos = (Window("chaos-search", NOW - timedelta(hours=1), NOW + timedelta(hours=1), ("search",)),)
    assert decide(rollback("search"), PolicyData(chaos_days=chaos)).outcome is Outcome.SUGGEST
    after = NOW + timedelta(hours=2)
    assert decide(rollback("search"), PolicyData(chaos_days=chaos), at=after).outcome is Outcome.ALLOW


def test_freeze_window_ends():
    freezes = (Window("Holiday freeze", NOW - timedelta(hours=1), NOW + timedelta(hours=1)),)
    policy = PolicyData(autonomy={"payment-gateway": 3}, freezes=freezes)
    assert decide(rollback("payment-gateway"), policy).approver_group == "cab"
    assert decide(rollback("payment-gateway"), policy, at=NOW + timedelta(hours=1)).outcome is Outcome.ALLOW


def decide_staple(call: ActionCall, policy: PolicyData | None = None):
    catalog = Catalog([*builtin_packs(), VPN, IDENTITY, HOSTS])
    return Governance(catalog, Inventory(), policy or PolicyData()).decide(call, NOW, confidence=0.95)


def test_a_person_is_a_production_target_of_tier_3():
    reset = ActionCall(action="reset_vpn_session", params={"user": "alice"})
    decision = decide_staple(reset)
    assert decision.outcome is Outcome.APPROVE  # a person's account is production: someone approves by default
    assert decision.approver_group == "sre"
    assert decide_staple(reset, PolicyData(autonomy={"tier:3": 3})).outcome is Outcome.ALLOW  # unless tier 3 runs alone


def test_a_host_is_a_production_target_of_tier_2():
    clear = ActionCall(action="clear_log_volume", params={"host": "worker-1"})
    assert decide_staple(clear).outcome is Outcome.APPROVE
    assert decide_staple(clear, PolicyData(autonomy={"worker-1": 3})).outcome is Outcome.ALLOW  # the host's own name
