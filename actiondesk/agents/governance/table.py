"""Decision tables: rows of (action, service, time, facts) → expected outcome, checked against the policies.

Used by ``actiondesk policy check`` (one row) and ``actiondesk policy test FILE`` (a YAML table)::

    cases:
      - {action: rollback_deployment, service: payment-gateway, expect: approve, group: sre}
      - {action: rollback_deployment, service: payment-gateway, at: "2026-12-24T10:00:00Z", expect: approve, group: cab}
      - {name: chaos day, action: rollback_deployment, service: search, chaos: true, expect: suggest}
      - {action: rollback_deployment, tier: 0, env: staging, level: 3, risk: low, expect: approve}
      - {action: rollback_deployment, service: search, level: 3, confidence: 0.6, expect: approve}

A row names a service of the estate (its tier, environment and dependencies are used), or describes one with
``tier`` / ``env``. ``level``, ``risk``, ``freeze``, ``chaos``, ``breaker``, ``kill_switch`` and ``threshold``
override the fact governance would compute, so a table can pin the policies' behaviour whatever today's data
says. ``confidence`` is the diagnosis' confidence (default 1.0, a sure one).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from actiondesk.agents.governance.engine import Governance
from actiondesk.agents.windows import Window
from actiondesk.core import yamltext
from actiondesk.core.errors import ConfigurationError, UnknownServiceError
from actiondesk.core.estate import Service
from actiondesk.core.governance import AutonomyLevel, Decision, Outcome, Risk
from actiondesk.core.plan import ActionCall


class PolicyRow(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str | None = None
    action: str
    service: str | None = None
    env: str | None = None
    tier: int | None = Field(default=None, ge=0)
    at: datetime | None = None
    requester: str = ""
    level: int | None = Field(default=None, ge=0, le=3)
    risk: Risk | None = None
    freeze: bool | None = None
    chaos: bool | None = None
    breaker: bool | None = None
    kill_switch: bool | None = None
    confidence: float = Field(default=1.0, ge=0.0, le=1.0)
    threshold: float | None = Field(default=None, ge=0.0, le=1.0)
    expect: Outcome | None = None
    group: str | None = None
    quorum: int | None = None
    policy_ids: tuple[str, ...] = ()  # each must be among the decision's

    @property
    def label(self) -> str:
        if self.name:
            return self.name
        bits = [self.action, self.service or f"tier {self.tier} {self.env or 'production'}"]
        if self.at:
            bits.append(f"at {self.at.isoformat()}")
        if self.confidence != 1.0:
            bits.append(f"confidence {self.confidence:g}")
        return " ".join(bits)


class PolicyTable(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    cases: tuple[PolicyRow, ...] = Field(min_length=1)


def load_table(path: Path) -> PolicyTable:
    try:
        raw = yamltext.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigurationError(f"{path}: cannot read the decision table: {exc}") from None
    try:
        return PolicyTable.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ConfigurationError(f"{path}: {problems}") from None


def _service(governance: Governance, row: PolicyRow, kind: str = "service") -> Service:
    """The row's target: a service of the estate, or (for an action on a person, a host or an application) the
    target governance decides for when the console or chat asks, under its own name and its kind's tier."""
    if row.service is not None:
        try:
            service = governance.target(kind, row.service)
        except UnknownServiceError:
            if row.tier is None:
                raise
            service = Service(row.service, row.tier, row.env or "production", "v0")
    else:
        service = Service("policy-test", row.tier if row.tier is not None else 2, row.env or "production", "v0")
    if row.env is not None:
        service = replace(service, environment=row.env)
    if row.tier is not None:
        service = replace(service, tier=row.tier)
    return service


def evaluate_row(governance: Governance, row: PolicyRow, now: datetime) -> Decision:
    """The decision for one row, with its overrides applied; never mutates anything (the breaker only reads)."""
    at = row.at or now
    spec = governance.catalog.get(row.action)
    risk = row.risk or spec.risk
    snapshot = governance.policies.current()
    if risk is Risk.READ:
        return Decision(
            outcome=Outcome.ALLOW,
            policy_ids=("read.always",),
            reasons=("read-only",),
            autonomy_level=AutonomyLevel.AUTONOMOUS,
            policy_hash=snapshot.hash,
        )
    service = _service(governance, row, spec.target_kind)
    call = ActionCall(action=row.action, params={"service": service.name})
    facts = governance.facts_for(
        call, risk, bool(spec.destructive), service, at, requester=row.requester, confidence=row.confidence
    )
    hour = timedelta(hours=1)
    if row.threshold is not None:
        facts = replace(facts, threshold=row.threshold, threshold_rule=f"table.threshold[{row.threshold}]")
    if row.level is not None:
        facts = replace(facts, level=AutonomyLevel(row.level), level_rule=f"table.level[{row.level}]")
    if row.freeze is not None:
        facts = replace(facts, freeze=Window("table freeze", at - hour, at + hour) if row.freeze else None)
    if row.chaos is not None:
        facts = replace(facts, chaos=Window("table chaos day", at - hour, at + hour) if row.chaos else None)
    if row.breaker is not None:
        facts = replace(
            facts,
            breaker="set by the table" if row.breaker else None,
            breaker_rule="breaker.table" if row.breaker else None,
        )
    if row.kill_switch is not None:
        facts = replace(facts, kill_switch="set by the table" if row.kill_switch else None)
    return governance.evaluate(facts, snapshot)


def mismatches(row: PolicyRow, decision: Decision) -> list[str]:
    problems = []
    if row.expect is not None and decision.outcome is not row.expect:
        problems.append(f"outcome {decision.outcome.value}, expected {row.expect.value}")
    if row.group is not None and decision.approver_group != row.group:
        problems.append(f"approver group {decision.approver_group}, expected {row.group}")
    if row.quorum is not None and decision.quorum != row.quorum:
        problems.append(f"quorum {decision.quorum}, expected {row.quorum}")
    missing = [p for p in row.policy_ids if p not in decision.policy_ids]
    if missing:
        problems.append(f"policies {list(decision.policy_ids)} lack {missing}")
    return problems
