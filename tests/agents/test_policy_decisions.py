"""The decision table (autonomy level x tier x risk x environment x freeze x chaos day x breaker x kill switch x
the diagnosis' confidence against the threshold → outcome) and property tests: the Cedar policies agree with a
plain-Python reference model of DESIGN.md §3, never allow what it denies, and a forbid always overrides a
permit."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from actiondesk.actions.catalog import Catalog
from actiondesk.actions.packs import builtin_packs
from actiondesk.agents.governance import Facts, Governance, PolicyData, Window, load_policies
from actiondesk.agents.governance.cedar import compile_policies
from actiondesk.core.errors import UnknownServiceError
from actiondesk.core.estate import Service
from actiondesk.core.governance import AutonomyLevel, Outcome, Risk

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
RISKS = (Risk.LOW, Risk.MEDIUM, Risk.HIGH)


class NoServices:
    def service(self, name: str) -> Service:
        raise UnknownServiceError(name)

    def services(self) -> list[Service]:
        return []


GOV = Governance(Catalog(builtin_packs()), NoServices(), PolicyData())
BUILTIN = load_policies()


@dataclass(frozen=True)
class Row:
    level: int
    tier: int
    risk: Risk
    production: bool
    freeze: bool = False
    chaos: bool = False
    breaker: bool = False
    kill: bool = False
    confidence: float = 1.0
    threshold: float = 0.9

    def facts(self) -> Facts:
        return Facts(
            action="rollback_deployment",
            service="svc",
            risk=self.risk,
            destructive=False,
            level=AutonomyLevel(self.level),
            level_rule="table",
            tier=self.tier,
            environment="production" if self.production else "staging",
            production=self.production,
            freeze=Window("freeze", NOW - HOUR, NOW + HOUR) if self.freeze else None,
            chaos=Window("chaos", NOW - HOUR, NOW + HOUR) if self.chaos else None,
            breaker="open" if self.breaker else None,
            breaker_rule="breaker.test" if self.breaker else None,
            kill_switch="on" if self.kill else None,
            confidence=self.confidence,
            threshold=self.threshold,
        )


def reference(r: Row) -> tuple[Outcome, str | None]:
    """DESIGN.md §3 in plain Python, written independently of the Cedar files."""
    if r.breaker:
        return Outcome.DENY, None
    if r.kill or r.chaos or r.level == 0:
        return Outcome.SUGGEST, None
    asks = (
        r.level == 1
        or (r.level == 2 and (r.risk is Risk.HIGH or r.production))
        or (r.level == 3 and r.confidence < r.threshold)  # an unsure diagnosis: a person approves
        or r.tier == 0
        or (r.freeze and r.production)
    )
    if asks:
        return Outcome.APPROVE, "cab" if r.freeze and r.production else "sre"
    return Outcome.ALLOW, None


def decide(r: Row):
    return GOV.evaluate(r.facts(), BUILTIN)


# The readable part of the table: one row per rule, and the interesting combinations.
TABLE = [
    # level, tier, risk, production, freeze, chaos, breaker -> outcome, group
    (Row(3, 2, Risk.MEDIUM, True), Outcome.ALLOW, None),
    (Row(2, 2, Risk.MEDIUM, False), Outcome.ALLOW, None),  # guarded, non-production
    (Row(2, 2, Risk.HIGH, False), Outcome.APPROVE, "sre"),  # guarded asks for high risk
    (Row(2, 2, Risk.LOW, True), Outcome.APPROVE, "sre"),  # guarded asks for production
    (Row(1, 3, Risk.LOW, False), Outcome.APPROVE, "sre"),
    (Row(0, 3, Risk.LOW, False), Outcome.SUGGEST, None),
    (Row(3, 0, Risk.LOW, False), Outcome.APPROVE, "sre"),  # tier 0 never autonomous
    (Row(3, 1, Risk.LOW, True, freeze=True), Outcome.APPROVE, "cab"),
    (Row(3, 1, Risk.LOW, False, freeze=True), Outcome.ALLOW, None),  # a freeze holds production only
    (Row(0, 1, Risk.LOW, True, freeze=True), Outcome.SUGGEST, None),  # the weakest answer wins
    (Row(3, 3, Risk.LOW, False, chaos=True), Outcome.SUGGEST, None),
    (Row(1, 1, Risk.LOW, True, chaos=True), Outcome.SUGGEST, None),
    (Row(3, 3, Risk.LOW, False, breaker=True), Outcome.DENY, None),
    (Row(0, 3, Risk.LOW, False, chaos=True, breaker=True), Outcome.DENY, None),
    (Row(3, 3, Risk.LOW, False, kill=True), Outcome.SUGGEST, None),
    (Row(1, 0, Risk.HIGH, True, freeze=True, kill=True), Outcome.SUGGEST, None),
    (Row(3, 2, Risk.MEDIUM, True, confidence=0.95), Outcome.ALLOW, None),  # sure enough: runs alone
    (Row(3, 2, Risk.MEDIUM, True, confidence=0.9), Outcome.ALLOW, None),  # at the threshold
    (Row(3, 2, Risk.MEDIUM, True, confidence=0.6), Outcome.APPROVE, "sre"),  # unsure: asks
    (Row(3, 3, Risk.LOW, False, confidence=0.6), Outcome.APPROVE, "sre"),  # whatever the environment
    (Row(3, 3, Risk.LOW, False, confidence=0.6, threshold=0.5), Outcome.ALLOW, None),  # a laxer threshold
    (Row(2, 3, Risk.LOW, False, confidence=0.1), Outcome.ALLOW, None),  # the gate belongs to level 3
    (Row(3, 1, Risk.LOW, True, freeze=True, confidence=0.6), Outcome.APPROVE, "cab"),  # the freeze's group wins
    (Row(3, 3, Risk.LOW, False, chaos=True, confidence=0.6), Outcome.SUGGEST, None),  # the weakest answer wins
]


@pytest.mark.parametrize(("row", "outcome", "group"), TABLE)
def test_decision_table(row: Row, outcome: Outcome, group: str | None) -> None:
    decision = decide(row)
    assert (decision.outcome, decision.approver_group) == (outcome, group)
    assert decision.policy_ids, "every decision names the policies that decided"
    assert decision.policy_hash == BUILTIN.hash
    assert reference(row) == (outcome, group)


def test_every_combination_agrees_with_the_reference_model() -> None:
    """autonomy level x tier x risk x environment x freeze x chaos x breaker x kill switch x confidence below, at
    or above the threshold: 4608 rows."""
    disagreements = []
    for level, tier, risk, production, freeze, chaos, breaker, kill, confidence in itertools.product(
        range(4),
        range(4),
        RISKS,
        (True, False),
        (True, False),
        (True, False),
        (True, False),
        (True, False),
        (0.6, 0.9, 0.95),
    ):
        row = Row(level, tier, risk, production, freeze, chaos, breaker, kill, confidence)
        decision = decide(row)
        if (decision.outcome, decision.approver_group) != reference(row):
            disagreements.append((row, decision.outcome, reference(row)))
    assert disagreements == []


def test_ids_name_the_policies_that_decided() -> None:
    decision = decide(Row(3, 0, Risk.LOW, True, freeze=True))
    assert decision.policy_ids == ("table", "tier0.never_autonomous", "freeze.cab", "freeze[freeze]")
    assert decision.quorum == 1
    assert decision.expires_in_seconds == 3600


rows = st.builds(
    Row,
    level=st.integers(0, 3),
    tier=st.integers(0, 5),
    risk=st.sampled_from(RISKS),
    production=st.booleans(),
    freeze=st.booleans(),
    chaos=st.booleans(),
    breaker=st.booleans(),
    kill=st.booleans(),
    confidence=st.floats(0.0, 1.0).map(lambda x: round(x, 4)),  # Cedar's decimals hold four places
    threshold=st.floats(0.0, 1.0).map(lambda x: round(x, 4)),
)


@settings(max_examples=300, deadline=None)
@given(rows)
def test_nothing_is_allowed_that_the_reference_model_denies(row: Row) -> None:
    decision = decide(row)
    expected, group = reference(row)
    if expected is not Outcome.ALLOW:
        assert decision.outcome is not Outcome.ALLOW
    assert (decision.outcome, decision.approver_group) == (expected, group)


# Forbid overrides permit, on random policy sets.

ATOMS = {
    "prod": ("context.production", lambda f: f.production),
    "freeze": ("context.freeze", lambda f: f.freeze is not None),
    "chaos": ("context.chaos", lambda f: f.chaos is not None),
    "high": ('context.risk == "high"', lambda f: f.risk is Risk.HIGH),
    "unsure": ("context.confidence.lessThan(context.confidenceThreshold)", lambda f: f.confidence < f.threshold),
    **{f"level>={k}": (f"context.level >= {k}", lambda f, k=k: f.level >= k) for k in range(4)},
    **{f"tier=={k}": (f"context.tier == {k}", lambda f, k=k: f.tier == k) for k in range(3)},
}

conditions = st.lists(st.tuples(st.sampled_from(sorted(ATOMS)), st.booleans()), min_size=0, max_size=3)
policies = st.lists(
    st.tuples(st.sampled_from(["permit", "forbid"]), conditions, st.sampled_from(["deny", "suggest", "approve"])),
    min_size=1,
    max_size=6,
)


def _cedar(index: int, effect: str, condition: list[tuple[str, bool]], fallback: str) -> str:
    body = " && ".join(("" if positive else "!") + f"({ATOMS[a][0]})" for a, positive in condition) or "true"
    note = f'@fallback("{fallback}")\n' if effect == "forbid" else ""
    return f'@id("p{index}")\n{note}{effect} (principal, action == Action::"run", resource) when {{ {body} }};\n'


def _holds(condition: list[tuple[str, bool]], facts: Facts) -> bool:
    return all(ATOMS[a][1](facts) is positive for a, positive in condition)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(policies, rows)
def test_forbid_always_overrides_permit(generated: list, row: Row) -> None:
    text = "".join(_cedar(i, *p) for i, p in enumerate(generated))
    snapshot = compile_policies([("generated.cedar", text)])
    facts = row.facts()
    decision = GOV.evaluate(facts, snapshot)
    forbids = [f"p{i}" for i, (effect, cond, _) in enumerate(generated) if effect == "forbid" and _holds(cond, facts)]
    permits = [f"p{i}" for i, (effect, cond, _) in enumerate(generated) if effect == "permit" and _holds(cond, facts)]
    if forbids:
        assert decision.outcome is not Outcome.ALLOW, "a matching forbid always wins over any permit"
        assert set(forbids) <= set(decision.policy_ids), "and it is named"
        weakest = min(["deny", "suggest", "approve"].index(generated[int(p[1:])][2]) for p in forbids)
        assert decision.outcome is (Outcome.DENY, Outcome.SUGGEST, Outcome.APPROVE)[weakest]
    elif permits:
        assert decision.outcome is Outcome.ALLOW
        assert set(permits) <= set(decision.policy_ids)
    else:
        assert decision.outcome is Outcome.DENY, "nothing permits it: default deny"
        assert "cedar.default_deny" in decision.policy_ids
