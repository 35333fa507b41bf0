"""The governance engine: facts from policy data, one Cedar question, one explained decision.

For each proposed call governance works out, from data only, the trust-ladder level of the target (defaults,
``ACTIONDESK_AUTONOMY``, runtime controls), whether a freeze covers it (the service, what it depends on and
what depends on it), whether a chaos day is on, whether the circuit breaker is open and whether the kill
switch is on. Cedar is then asked one question: may the agent run this call on its own? A ``forbid`` that
says no carries, in its annotations, what is still allowed (approval by a group, a suggestion, nothing), so the
outcome is allow / approve / suggest / deny, always with the ids of the policies that decided and the hash
of the policy set used. Any error while deciding denies.

The facts and the data they come from are in ``facts``; how Cedar's answer reads as a decision, in ``verdict``.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

import cedarpy

from actiondesk.actions.catalog import Catalog
from actiondesk.agents.controls import Controls, ControlState
from actiondesk.agents.governance.cedar import FALLBACKS, PolicyMeta, PolicySnapshot, PolicyStore
from actiondesk.agents.governance.facts import (
    TARGET_TIERS,
    Facts,
    PolicyData,
    autonomy_level,
    confidence_threshold,
    fingerprint,
)
from actiondesk.agents.governance.verdict import data_ids, explain, refusal, verdict
from actiondesk.core.errors import ActionDeskError, UnknownServiceError
from actiondesk.core.estate import Service
from actiondesk.core.governance import AutonomyLevel, Decision, Outcome, Risk
from actiondesk.core.plan import ActionCall
from actiondesk.core.ports import Inventory
from actiondesk.core.tracing import span

if TYPE_CHECKING:
    from actiondesk.agents.breaker import CircuitBreaker
    from actiondesk.agents.governance.calendars import Calendars
    from actiondesk.core.runs import ActionRun

log = logging.getLogger(__name__)

NO_CONTROLS = ControlState()
DEPENDENTS_MAX_AGE = 1.0  # seconds: how stale the estate's dependency links may be


class Governance:
    def __init__(
        self,
        catalog: Catalog,
        inventory: Inventory,
        policy: PolicyData,
        controls: Controls | None = None,
        *,
        policies: PolicyStore | None = None,
        calendars: Calendars | None = None,
        breaker: CircuitBreaker | None = None,
        agent: str = "actiondesk",
    ) -> None:
        self._catalog = catalog
        self._inventory = inventory
        self.policy = policy
        self.controls = controls
        self.policies = policies if policies is not None else PolicyStore()
        self.calendars = calendars
        self.breaker = breaker
        self.agent = agent
        self._dependents: tuple[float, dict[str, frozenset[str]]] | None = None
        self._merged: tuple[tuple[object, ...], PolicyData] | None = None

    @property
    def catalog(self) -> Catalog:
        return self._catalog

    @property
    def inventory(self) -> Inventory:
        return self._inventory

    # Data

    def effective_policy(self, at: datetime | None = None, *, fresh: bool = False) -> tuple[PolicyData, ControlState]:
        """The configured policy data with the calendars and the runtime controls laid over it (controls win)."""
        state = self.controls.state(fresh=fresh) if self.controls is not None else NO_CONTROLS
        freezes, chaos = self.calendars.windows(at) if self.calendars is not None else ((), ())
        key = (self.policy, freezes, chaos, state.autonomy, state.freezes, state.chaos, state.kill_switch)
        merged = self._merged
        if merged is not None and all(a is b for a, b in zip(merged[0], key, strict=True)):
            return merged[1], state  # nothing changed since the last decision: reuse the merge
        policy = self.policy
        if freezes or chaos:
            policy = replace(policy, freezes=(*policy.freezes, *freezes), chaos_days=(*policy.chaos_days, *chaos))
        if self.controls is not None:
            policy = replace(
                policy,
                autonomy={**policy.autonomy, **state.autonomy},
                freezes=(*policy.freezes, *state.freezes),
                chaos_days=(*policy.chaos_days, *state.chaos),
                kill_switch=policy.kill_switch or state.kill_switch,
            )
        self._merged = (key, policy)  # the key holds its objects, so their identities stay theirs
        return policy, state

    def target(self, kind: str, name: str) -> Service:
        """The estate's service of that name; for a person, a host or an application that is not one, a target
        governed like a production service of its kind's tier (``TARGET_TIERS``), under its own name."""
        try:
            return self._inventory.service(name)
        except UnknownServiceError:
            if kind == "service" or kind not in TARGET_TIERS:
                raise
            return Service(name=name, tier=TARGET_TIERS[kind], environment="production", version="")

    def related(self, service: Service) -> set[str]:
        """The service, what it depends on, and what depends on it (the estate's links, re-read every second)."""
        cached = self._dependents
        if cached is None or time.monotonic() - cached[0] >= DEPENDENTS_MAX_AGE:
            dependents: dict[str, set[str]] = {}
            for s in self._inventory.services():
                for name in s.depends_on:
                    dependents.setdefault(name, set()).add(s.name)
            cached = (time.monotonic(), {k: frozenset(v) for k, v in dependents.items()})
            self._dependents = cached
        return {service.name, *service.depends_on, *cached[1].get(service.name, ())}

    def facts(
        self,
        call: ActionCall,
        at: datetime,
        *,
        requester: str = "",
        requested: bool = False,
        fresh: bool = False,
        confidence: float | None = None,
    ) -> Facts | None:
        """The facts for a call; None for a read-only call (reads always run).

        ``requested``: a person asked for exactly this call (a service request, ``/actiondesk rollback``), so it
        undoing an earlier run is deliberate and the breaker's undo rule does not apply to it.
        ``confidence``: the finding's confidence. None means no diagnosis stands behind the call: it counts as
        1.0 when a person asked for it, else as 0.0 (an unknown confidence never unlocks level 3).
        """
        spec, params = self._catalog.validate(call)
        if spec.risk is Risk.READ:
            return None
        service = self.target(spec.target_kind, spec.target(params))
        if confidence is None:
            confidence = 1.0 if requested else 0.0
        facts = self.facts_for(
            call,
            spec.risk,
            bool(spec.destructive),
            service,
            at,
            requester=requester,
            undo=not requested,
            fresh=fresh,
            confidence=confidence,
        )
        group = spec.access_group(params)
        if group is None:
            return facts
        return replace(facts, access_group=group, owner_group=self.policy.privileged_groups.get(group))

    def facts_for(
        self,
        call: ActionCall,
        risk: Risk,
        destructive: bool,
        service: Service,
        at: datetime,
        *,
        requester: str = "",
        undo: bool = True,
        fresh: bool = False,
        confidence: float = 1.0,
    ) -> Facts:
        """The facts for ``call`` on ``service`` (used as given: ``policy check --env`` passes a changed one)."""
        policy, state = self.effective_policy(at, fresh=fresh)
        level, level_rule = autonomy_level(service, policy, risk)
        threshold, threshold_rule = confidence_threshold(service, policy)
        related = self.related(service)
        freeze = next((w for w in policy.freezes if w.active(at) and w.covers(related)), None)
        chaos = next((w for w in policy.chaos_days if w.active(at) and w.covers({service.name})), None)
        breaker = breaker_rule = None
        if self.breaker is not None:
            verdict = self.breaker.check(call, service.name, fingerprint(service), at, undo_rule=undo, fresh=fresh)
            if verdict.open:
                breaker, breaker_rule = verdict.reason, verdict.rule
        kill = None
        if policy.kill_switch:
            kill = state.kill_reason or ("set in the configuration" if self.policy.kill_switch else "on")
            if state.kill_by:
                kill = f"{kill} (turned on by {state.kill_by})"
        return Facts(
            action=call.action,
            service=service.name,
            risk=risk,
            destructive=destructive,
            level=level,
            level_rule=level_rule,
            tier=service.tier,
            environment=service.environment,
            production=service.production,
            freeze=freeze,
            chaos=chaos,
            breaker=breaker,
            breaker_rule=breaker_rule,
            kill_switch=kill,
            requester=requester,
            confidence=confidence,
            threshold=threshold,
            threshold_rule=threshold_rule,
        )

    # Deciding

    def decide(
        self,
        call: ActionCall,
        at: datetime,
        *,
        requester: str = "",
        requested: bool = False,
        fresh: bool = False,
        confidence: float | None = None,
    ) -> Decision:
        """Decide ``call`` at ``at``. ``fresh``: read the controls and the breaker from the store now (the
        time-of-use check before an action runs), not from their caches of up to a second. ``confidence``: the
        finding's (see ``facts``)."""
        with span("governance.decide", {"actiondesk.action": call.action, "actiondesk.recheck": fresh}) as current:
            decision = self._decide(
                call, at, requester=requester, requested=requested, fresh=fresh, confidence=confidence
            )
            current.set_attribute("actiondesk.decision", decision.outcome.value)
            current.set_attribute("actiondesk.policy_ids", list(decision.policy_ids))
            return decision

    def _decide(
        self,
        call: ActionCall,
        at: datetime,
        *,
        requester: str,
        requested: bool,
        fresh: bool,
        confidence: float | None,
    ) -> Decision:
        snapshot: PolicySnapshot | None = None
        try:
            snapshot = self.policies.current()  # one set for the whole decision, even if a reload lands now
            facts = self.facts(call, at, requester=requester, requested=requested, fresh=fresh, confidence=confidence)
            if facts is None:
                return Decision(
                    outcome=Outcome.ALLOW,
                    policy_ids=("read.always",),
                    reasons=("read-only",),
                    autonomy_level=AutonomyLevel.AUTONOMOUS,
                    policy_hash=snapshot.hash,
                )
            decision = self.evaluate(facts, snapshot)
            if facts.breaker is not None and self.breaker is not None:
                self.breaker.trip(facts.service, facts.breaker, at)
            return decision
        except ActionDeskError as exc:
            return refusal(snapshot, f"cannot decide: {exc}")
        except Exception as exc:  # fail closed: an error in evaluating policy never allows anything
            log.exception("governance failed on %s", call.action)
            return refusal(snapshot, f"policy evaluation failed: {type(exc).__name__}")

    def request(self, facts: Facts) -> dict[str, Any]:
        return {
            "principal": {"type": "Agent", "id": self.agent},
            "action": {"type": "Action", "id": "run"},
            "resource": {"type": "Service", "id": facts.service},
            "context": json.dumps(facts.context(), separators=(",", ":")),
        }

    def evaluate(self, facts: Facts, snapshot: PolicySnapshot) -> Decision:
        """Ask Cedar and turn its answer into a decision. Errors in evaluation deny."""
        result = cedarpy.is_authorized(self.request(facts), snapshot.policy_set, snapshot.entities)
        errors = list(result.diagnostics.errors)
        if errors or result.decision not in (cedarpy.Decision.Allow, cedarpy.Decision.Deny):
            return refusal(snapshot, "policy evaluation error: " + "; ".join(map(str, errors or ["no decision"])))
        # in the order the policies are written, so the same decision always reads the same
        reasons_ids = sorted(result.diagnostics.reasons, key=lambda r: int(r.removeprefix("policy") or 0))
        determining = [snapshot.policy(r) for r in reasons_ids]
        ids: list[str] = [facts.level_rule]
        reasons: list[str] = [
            f"{facts.service} ({facts.environment}, tier {facts.tier}) is at level "
            f"{facts.level.value} ({facts.level.name.lower()})"
        ]
        if facts.level >= AutonomyLevel.AUTONOMOUS and (
            result.decision is cedarpy.Decision.Allow or any(p.id.startswith("ladder.autonomous") for p in determining)
        ):  # the confidence gate took part: say against which threshold
            ids.append(facts.threshold_rule)
            relation = "at or above" if facts.confidence >= facts.threshold else "below"
            reasons.append(
                f"the diagnosis is {facts.confidence:.0%} sure, {relation} the threshold of {facts.threshold:.0%}"
            )
        if result.decision is cedarpy.Decision.Allow:
            ids += [p.id for p in determining]
            return verdict(Outcome.ALLOW, facts, snapshot, ids, reasons)
        if not determining:  # no permit matched and no forbid either: Cedar's default deny
            ids.append("cedar.default_deny")
            reasons.append("no policy permits this")
            return verdict(Outcome.DENY, facts, snapshot, ids, reasons)
        weakest = min(FALLBACKS.index(p.fallback) for p in determining)
        outcome = {0: Outcome.DENY, 1: Outcome.SUGGEST, 2: Outcome.APPROVE}[weakest]
        for p in determining:
            ids.append(p.id)
            reasons.append(explain(p, facts))
            ids.extend(data_ids(p, facts))
        if outcome is not Outcome.APPROVE:
            return verdict(outcome, facts, snapshot, ids, reasons)
        asking = [p for p in determining if p.fallback == "approve"]
        group = self._group(asking, facts)
        quorum = max(p.quorum for p in asking)
        ttl = min([p.expires for p in asking if p.expires] or [self.policy.approval_ttl_seconds])
        return verdict(outcome, facts, snapshot, ids, reasons, group=group, quorum=quorum, ttl=ttl)

    def _group(self, asking: list[PolicyMeta], facts: Facts) -> str:
        """The approver group: a policy naming the freeze approvers or a group of its own wins over production;
        ``owner`` is the owner group of the privileged directory group the call grants."""
        names = [p.approvers for p in asking]
        chosen = next((n for n in names if n != "production"), "production")
        if chosen == "owner":
            return facts.owner_group or ""  # no owner known: an empty group, which nobody can approve
        if chosen == "production":
            return self.policy.production_approvers
        if chosen == "freeze":
            return self.policy.freeze_approvers
        return chosen

    # After a run

    def observe(self, call: ActionCall, run: ActionRun, at: datetime) -> None:
        """Tell the circuit breaker a mutating call ran (with its inverse, and the state it left behind)."""
        if self.breaker is None:
            return
        spec, params = self._catalog.validate(call)
        if spec.risk is Risk.READ:
            return
        target = spec.target(params)
        inverse = spec.inverse(run.snapshot or {}, params) if run.snapshot else None
        try:
            after = fingerprint(self._inventory.service(target))
        except ActionDeskError:
            after = ""
        self.breaker.record(call, target, after, inverse, at, run.case_id)
