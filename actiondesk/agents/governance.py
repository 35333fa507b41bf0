"""Governance: decide allow / approve / suggest / deny for every proposed call, from policy data alone.

The model (or runbook) that proposed a call has no say here: the decision depends only on the action's
catalog entry, the target's place in the estate, the autonomy levels, freeze windows and chaos days. Any
error while deciding fails closed (deny).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from actiondesk.actions.catalog import Catalog
from actiondesk.agents.controls import Controls, ControlState
from actiondesk.agents.windows import Window
from actiondesk.core.errors import ActionDeskError
from actiondesk.core.estate import Service
from actiondesk.core.governance import AutonomyLevel, Decision, Outcome, Risk
from actiondesk.core.plan import ActionCall
from actiondesk.core.ports import Inventory

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PolicyData:
    """Everything governance decides from. Its hash is recorded with every decision."""

    autonomy: Mapping[str, int] = field(default_factory=dict)  # "svc", "svc@env", "tier:N", "env:NAME"
    freezes: Sequence[Window] = ()
    chaos_days: Sequence[Window] = ()
    production_approvers: str = "sre"
    freeze_approvers: str = "cab"
    approval_ttl_seconds: int = 3600
    kill_switch: bool = False

    def digest(self) -> str:
        body = json.dumps(
            {
                "autonomy": dict(sorted(self.autonomy.items())),
                "freezes": [[w.name, w.start.isoformat(), w.end.isoformat(), list(w.services)] for w in self.freezes],
                "chaos": [[w.name, w.start.isoformat(), w.end.isoformat(), list(w.services)] for w in self.chaos_days],
                "approvers": [self.production_approvers, self.freeze_approvers],
                "ttl": self.approval_ttl_seconds,
                "kill_switch": self.kill_switch,
            },
            sort_keys=True,
        )
        return hashlib.sha256(body.encode()).hexdigest()[:16]


def autonomy_level(service: Service, policy: PolicyData) -> tuple[AutonomyLevel, str]:
    """The level for a service and the id of the rule that set it, most specific rule first."""
    keys = (
        f"{service.name}@{service.environment}",
        service.name,
        f"tier:{service.tier}",
        f"env:{service.environment}",
    )
    for key in keys:
        if key in policy.autonomy:
            return AutonomyLevel(policy.autonomy[key]), f"autonomy.override[{key}]"
    if service.production:
        return AutonomyLevel.APPROVE, "autonomy.default.production"
    return AutonomyLevel.GUARDED, "autonomy.default.non_production"


class Governance:
    def __init__(
        self, catalog: Catalog, inventory: Inventory, policy: PolicyData, controls: Controls | None = None
    ) -> None:
        self._catalog = catalog
        self._inventory = inventory
        self.policy = policy
        self.controls = controls

    def effective_policy(self) -> tuple[PolicyData, ControlState]:
        """The configured policy data with the runtime controls laid over it (controls win)."""
        state = self.controls.state() if self.controls is not None else ControlState()
        if self.controls is None:
            return self.policy, state
        policy = replace(
            self.policy,
            autonomy={**self.policy.autonomy, **state.autonomy},
            freezes=(*self.policy.freezes, *state.freezes),
            chaos_days=(*self.policy.chaos_days, *state.chaos),
            kill_switch=state.kill_switch,
        )
        return policy, state

    def decide(self, call: ActionCall, at: datetime) -> Decision:
        try:
            return self._decide(call, at)
        except ActionDeskError as exc:
            return self._deny("governance.fail_closed", f"cannot decide: {exc}")
        except Exception as exc:  # fail closed: an error in evaluating policy never allows anything
            log.exception("governance failed on %s", call.action)
            return self._deny("governance.fail_closed", f"policy evaluation failed: {type(exc).__name__}")

    def _deny(self, policy_id: str, reason: str) -> Decision:
        return Decision(
            outcome=Outcome.DENY,
            policy_ids=(policy_id,),
            reasons=(reason,),
            autonomy_level=AutonomyLevel.SUGGEST,
            policy_hash=self.policy.digest(),
        )

    def _related(self, service: Service) -> set[str]:
        """The service, what it depends on, and what depends on it."""
        related = {service.name, *service.depends_on}
        related.update(s.name for s in self._inventory.services() if service.name in s.depends_on)
        return related

    def _decide(self, call: ActionCall, at: datetime) -> Decision:
        spec, params = self._catalog.validate(call)
        policy, _state = self.effective_policy()
        digest = policy.digest()
        if spec.risk is Risk.READ:
            return Decision(
                outcome=Outcome.ALLOW,
                policy_ids=("read.always",),
                reasons=("read-only",),
                autonomy_level=AutonomyLevel.AUTONOMOUS,
                policy_hash=digest,
            )
        service = self._inventory.service(spec.target(params))
        level, level_rule = autonomy_level(service, policy)
        ids: list[str] = [level_rule]
        reasons: list[str] = [
            f"{service.name} ({service.environment}, tier {service.tier}) is at level "
            f"{level.value} ({level.name.lower()})"
        ]
        group = policy.production_approvers
        if level is AutonomyLevel.SUGGEST:
            outcome = Outcome.SUGGEST
        elif level is AutonomyLevel.APPROVE:
            outcome = Outcome.APPROVE
        elif level is AutonomyLevel.GUARDED and (spec.risk is Risk.HIGH or service.production):
            outcome = Outcome.APPROVE
            ids.append("ladder.guarded.asks")
            reasons.append("guarded level asks for high-risk actions and production changes")
        else:
            outcome = Outcome.ALLOW
        if service.tier == 0 and outcome is Outcome.ALLOW:
            outcome = Outcome.APPROVE
            ids.append("tier0.never_autonomous")
            reasons.append("tier-0 services never change autonomously")
        chaos = [w for w in policy.chaos_days if w.active(at) and service.name in w.services]
        if chaos and outcome in (Outcome.ALLOW, Outcome.APPROVE):
            outcome = Outcome.SUGGEST
            ids.append(f"chaos_day[{chaos[0].name}]")
            reasons.append(f"chaos day on {service.name} until {chaos[0].end:%Y-%m-%d %H:%M} UTC: suggest only")
        related = self._related(service)
        freezes = [w for w in policy.freezes if w.active(at) and (not w.services or related & set(w.services))]
        if freezes and service.production and outcome in (Outcome.ALLOW, Outcome.APPROVE):
            outcome = Outcome.APPROVE
            group = policy.freeze_approvers
            ids.append(f"freeze[{freezes[0].name}]")
            reasons.append(f"{freezes[0].name} until {freezes[0].end:%Y-%m-%d %H:%M} UTC: CAB approval required")
        if policy.kill_switch and outcome in (Outcome.ALLOW, Outcome.APPROVE):
            outcome = Outcome.SUGGEST
            ids.append("kill_switch")
            reasons.append("the kill switch is on: no automated changes run; a person may run this by hand")
        approving = outcome is Outcome.APPROVE
        return Decision(
            outcome=outcome,
            policy_ids=tuple(ids),
            reasons=tuple(reasons),
            autonomy_level=level,
            approver_group=group if approving else None,
            expires_in_seconds=policy.approval_ttl_seconds if approving else None,
            production=service.production,
            policy_hash=digest,
        )
