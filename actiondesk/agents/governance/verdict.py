"""How a decision reads: the ``Decision`` record built from Cedar's answer, with the policy and data ids that
decided and a sentence for each, and the fail-closed denial."""

from __future__ import annotations

from actiondesk.agents.governance.cedar import PolicyMeta, PolicySnapshot
from actiondesk.agents.governance.facts import Facts
from actiondesk.core.governance import AutonomyLevel, Decision, Outcome


def data_ids(p: PolicyMeta, facts: Facts) -> list[str]:
    """The data behind a deciding policy: the freeze, the chaos day or the breaker rule it matched."""
    if p.id.startswith("freeze") and facts.freeze is not None:
        return [f"freeze[{facts.freeze.name}]"]
    if p.id.startswith("chaos_day") and facts.chaos is not None:
        return [f"chaos_day[{facts.chaos.name}]"]
    if p.id.startswith("breaker") and facts.breaker_rule:
        return [facts.breaker_rule]
    return []


def explain(p: PolicyMeta, facts: Facts) -> str:
    """Why a deciding policy said what it said, in a sentence people read."""
    if p.id.startswith("freeze") and facts.freeze is not None:
        return f"{facts.freeze.name} until {facts.freeze.end:%Y-%m-%d %H:%M} UTC: CAB approval required"
    if p.id.startswith("chaos_day") and facts.chaos is not None:
        return f"chaos day on {facts.service} until {facts.chaos.end:%Y-%m-%d %H:%M} UTC: suggest only"
    if p.id.startswith("breaker") and facts.breaker is not None:
        return f"circuit breaker open on {facts.service}: {facts.breaker}"
    if p.id.startswith("access.privileged") and facts.owner_group is not None:
        return f"{facts.access_group} is a privileged group: its owner group {facts.owner_group} approves"
    if p.id == "kill_switch" and facts.kill_switch is not None:
        return f"the kill switch is on: {facts.kill_switch}; no automated changes run"
    return p.reason or f"policy {p.id}"


def refusal(snapshot: PolicySnapshot | None, reason: str) -> Decision:
    """The fail-closed denial: what any error while deciding comes to."""
    return Decision(
        outcome=Outcome.DENY,
        policy_ids=("governance.fail_closed",),
        reasons=(reason,),
        autonomy_level=AutonomyLevel.SUGGEST,
        policy_hash=snapshot.hash if snapshot is not None else "",
    )


def verdict(
    outcome: Outcome,
    facts: Facts,
    snapshot: PolicySnapshot,
    ids: list[str],
    reasons: list[str],
    *,
    group: str | None = None,
    quorum: int = 1,
    ttl: int | None = None,
) -> Decision:
    approving = outcome is Outcome.APPROVE
    return Decision(
        outcome=outcome,
        policy_ids=tuple(dict.fromkeys(ids)),
        reasons=tuple(dict.fromkeys(reasons)),
        autonomy_level=facts.level,
        approver_group=group if approving else None,
        quorum=quorum if approving else 1,
        expires_in_seconds=ttl if approving else None,
        production=facts.production,
        policy_hash=snapshot.hash,
        confidence=facts.confidence,
        confidence_threshold=facts.threshold,
    )
