"""The sandbox estate: a simulated company behind the same ports the real adapters implement.

``SandboxEstate`` serves Inventory, Telemetry, Deployer and Directory from an ``EstateState`` (the default
estate, or a scenario's world) and reads time only from the clock it is given, so scenario runs are
deterministic. Scenario files (DESIGN §8) are read by ``load_scenario`` / ``parse_scenario``.
"""

from __future__ import annotations

from actiondesk.adapters.sandbox.default import default_estate
from actiondesk.adapters.sandbox.estate import SandboxEstate
from actiondesk.adapters.sandbox.events import (
    AlertEvent,
    ApproveEvent,
    ConfigChangeEvent,
    ConversationEvent,
    DeployEvent,
    FaultEvent,
    FlagEvent,
    MessageEvent,
    RejectEvent,
    ReplyEvent,
    ScaleEvent,
    ScenarioEvent,
    WaitEvent,
    WorldEvent,
)
from actiondesk.adapters.sandbox.loader import load_scenario, parse_scenario
from actiondesk.adapters.sandbox.overrides import PersonSpec, ServiceSpec, WorldSpec
from actiondesk.adapters.sandbox.scenario import (
    DEFAULT_START,
    ChangeSpec,
    ChaosDay,
    Expect,
    FreezeWindow,
    Policy,
    RootCause,
    Scenario,
)
from actiondesk.adapters.sandbox.world import (
    ChangeKind,
    ChangeRecord,
    DeployKind,
    DeploymentRecord,
    EstateState,
    FaultKind,
    FaultRecord,
    LogVolume,
    OwnerRecord,
    PersonRecord,
    PurchaseRequest,
    ServiceRecord,
    SessionStatus,
    VpnState,
)

__all__ = [
    "DEFAULT_START",
    "AlertEvent",
    "ApproveEvent",
    "ChangeKind",
    "ChangeRecord",
    "ChangeSpec",
    "ChaosDay",
    "ConfigChangeEvent",
    "ConversationEvent",
    "DeployEvent",
    "DeployKind",
    "DeploymentRecord",
    "EstateState",
    "Expect",
    "FaultEvent",
    "FaultKind",
    "FaultRecord",
    "FlagEvent",
    "FreezeWindow",
    "LogVolume",
    "MessageEvent",
    "OwnerRecord",
    "PersonRecord",
    "PersonSpec",
    "Policy",
    "PurchaseRequest",
    "RejectEvent",
    "ReplyEvent",
    "RootCause",
    "SandboxEstate",
    "ScaleEvent",
    "Scenario",
    "ScenarioEvent",
    "ServiceRecord",
    "ServiceSpec",
    "SessionStatus",
    "VpnState",
    "WaitEvent",
    "WorldEvent",
    "WorldSpec",
    "default_estate",
    "load_scenario",
    "parse_scenario",
]
