"""The facts governance decides from: the policy data (levels, windows, approvers, thresholds), the rules that
pick a target's level and threshold, and the ``Facts`` one Cedar question is asked with."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from actiondesk.agents.windows import Window
from actiondesk.core.estate import Service
from actiondesk.core.governance import AutonomyLevel, Risk

RISKS = ("low", "medium", "high")

DEFAULT_THRESHOLD = 0.9  # level 3 runs alone only on a diagnosis at least this sure


@dataclass(frozen=True)
class PolicyData:
    """The data governance decides from besides the Cedar policies: levels, windows, approver groups."""

    autonomy: Mapping[str, int] = field(default_factory=dict)  # "svc", "svc@env", "tier:N", "env:NAME", + "/risk"
    freezes: Sequence[Window] = ()
    chaos_days: Sequence[Window] = ()
    production_approvers: str = "sre"
    freeze_approvers: str = "cab"
    approval_ttl_seconds: int = 3600
    kill_switch: bool = False
    privileged_groups: Mapping[str, str] = field(default_factory=dict)  # directory group → owner group (roles)
    confidence: Mapping[str, float] = field(default_factory=dict)  # thresholds, keyed as ``autonomy`` (no risk)
    confidence_default: float = DEFAULT_THRESHOLD

    def digest(self) -> str:
        body = json.dumps(
            {
                "autonomy": dict(sorted(self.autonomy.items())),
                "freezes": [[w.name, w.start.isoformat(), w.end.isoformat(), list(w.services)] for w in self.freezes],
                "chaos": [[w.name, w.start.isoformat(), w.end.isoformat(), list(w.services)] for w in self.chaos_days],
                "approvers": [self.production_approvers, self.freeze_approvers],
                "ttl": self.approval_ttl_seconds,
                "kill_switch": self.kill_switch,
                "privileged": dict(sorted(self.privileged_groups.items())),
                "confidence": [dict(sorted(self.confidence.items())), self.confidence_default],
            },
            sort_keys=True,
        )
        return hashlib.sha256(body.encode()).hexdigest()[:16]


# Targets that are not services: a person's account or VPN session, a host's volume, a deployed application.
# They are production (they are the company's own), tier 3 for people and tier 2 for hosts and applications,
# so by default a person approves; `tier:N` or the target's own name in the autonomy settings change that.
TARGET_TIERS: dict[str, int] = {"person": 3, "host": 2, "application": 2}


def autonomy_level(service: Service, policy: PolicyData, risk: Risk | None = None) -> tuple[AutonomyLevel, str]:
    """The level for a service (and action risk) and the id of the rule that set it, most specific rule first.

    Keys: ``service@env``, ``service``, ``tier:N``, ``env:NAME``; each may carry a risk, ``KEY/high``, which
    is more specific than the same key without one.
    """
    keys = (
        f"{service.name}@{service.environment}",
        service.name,
        f"tier:{service.tier}",
        f"env:{service.environment}",
    )
    for key in keys:
        if risk is not None and f"{key}/{risk.value}" in policy.autonomy:
            key = f"{key}/{risk.value}"
            return AutonomyLevel(policy.autonomy[key]), f"autonomy.override[{key}]"
        if key in policy.autonomy:
            return AutonomyLevel(policy.autonomy[key]), f"autonomy.override[{key}]"
    if service.production:
        return AutonomyLevel.APPROVE, "autonomy.default.production"
    return AutonomyLevel.GUARDED, "autonomy.default.non_production"


def confidence_threshold(service: Service, policy: PolicyData) -> tuple[float, str]:
    """The confidence a diagnosis needs before level 3 may act on ``service`` alone, and the rule that set it:
    the most specific of ``service@env``, ``service``, ``tier:N``, ``env:NAME``, else the default."""
    for key in (
        f"{service.name}@{service.environment}",
        service.name,
        f"tier:{service.tier}",
        f"env:{service.environment}",
    ):
        if key in policy.confidence:
            return float(policy.confidence[key]), f"confidence.threshold[{key}]"
    return policy.confidence_default, "confidence.threshold.default"


def cedar_decimal(value: float) -> dict[str, Any]:
    """A number as Cedar's decimal extension value (four decimal places, Cedar's own precision)."""
    return {"__extn": {"fn": "decimal", "arg": f"{min(max(value, 0.0), 1.0):.4f}"}}


def fingerprint(service: Service) -> str:
    """A short hash of what the inventory observes of a service (its version, tier, environment, links)."""
    seen = f"{service.name}|{service.version}|{service.tier}|{service.environment}|{','.join(service.depends_on)}"
    return hashlib.sha256(seen.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Facts:
    """Everything the Cedar question is asked with, and the data behind each fact (for the explanation)."""

    action: str
    service: str
    risk: Risk
    destructive: bool
    level: AutonomyLevel
    level_rule: str
    tier: int
    environment: str
    production: bool
    freeze: Window | None = None
    chaos: Window | None = None
    breaker: str | None = None  # why it is open
    breaker_rule: str | None = None
    kill_switch: str | None = None  # why it is on
    requester: str = ""
    access_group: str | None = None  # the directory group the call grants membership of
    owner_group: str | None = None  # that group's owner, when the role catalog calls it privileged
    confidence: float = 1.0  # the diagnosis behind the call (1.0: a person asked for exactly this call)
    threshold: float = DEFAULT_THRESHOLD
    threshold_rule: str = "confidence.threshold.default"

    def context(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "risk": self.risk.value,
            "destructive": self.destructive,
            "level": int(self.level),
            "tier": self.tier,
            "environment": self.environment,
            "production": self.production,
            "freeze": self.freeze is not None,
            "chaos": self.chaos is not None,
            "breaker": self.breaker is not None,
            "killSwitch": self.kill_switch is not None,
            "requester": self.requester,
            "privileged": self.owner_group is not None,
            "ownerGroup": self.owner_group or "",
            "confidence": cedar_decimal(self.confidence),
            "confidenceThreshold": cedar_decimal(self.threshold),
        }
