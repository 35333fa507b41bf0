"""Catalog actions as strict function tools, and the few a finding makes relevant."""

from __future__ import annotations

import json
from typing import Any

from actiondesk.actions.catalog import AnySpec, Catalog
from actiondesk.core.finding import Finding, FindingKind
from actiondesk.core.llm import ToolSchema
from actiondesk.core.plan import ActionCall

_INCIDENT_PACKS = frozenset(
    {"telemetry", "deployments", "changes", "argocd", "kubernetes", "loki", "prometheus", "hosts"}
)
_CHANGE_PACKS = frozenset({"telemetry", "changes", "kubernetes"})
RELEVANT_PACKS: dict[FindingKind, frozenset[str]] = {
    FindingKind.BAD_DEPLOY: frozenset({"telemetry", "deployments", "changes", "argocd", "kubernetes"}),
    FindingKind.BAD_CONFIG: _CHANGE_PACKS,
    FindingKind.BAD_FLAG: _CHANGE_PACKS,
    FindingKind.BAD_SCALE: _CHANGE_PACKS,
    FindingKind.UNEXPLAINED_ANOMALY: _INCIDENT_PACKS,
    FindingKind.NO_ANOMALY: _INCIDENT_PACKS,
    FindingKind.UNKNOWN_SERVICE: frozenset({"telemetry", "changes"}),
    FindingKind.REQUEST: frozenset({"identity", "vpn", "hosts"}),
    FindingKind.VPN_LOCKED: frozenset({"vpn", "identity"}),
    FindingKind.DISK_FULL: frozenset({"hosts"}),
    FindingKind.PASSWORD_RESET: frozenset({"identity"}),
}
_DROPPED = frozenset({"title", "default", "examples"})


def offered_specs(catalog: Catalog, finding: Finding | None) -> list[AnySpec]:
    """The actions triage made relevant (by pack, for the finding's kind); with no finding, the whole catalog."""
    if finding is None:
        return [catalog.get(name) for name in catalog.names()]
    packs = RELEVANT_PACKS.get(finding.kind, frozenset())
    return [spec for pack in catalog.packs() if pack.name in packs for spec in pack.actions]


def _nullable(node: dict[str, Any]) -> dict[str, Any]:
    options = node.get("anyOf")
    if isinstance(options, list):
        if not any(isinstance(o, dict) and o.get("type") == "null" for o in options):
            node = {**node, "anyOf": [*options, {"type": "null"}]}
        return node
    description = node.get("description")
    inner = {k: v for k, v in node.items() if k != "description"}
    wrapped: dict[str, Any] = {"anyOf": [inner, {"type": "null"}]}
    if description:
        wrapped["description"] = description
    return wrapped


def _strict(node: Any) -> Any:
    if isinstance(node, list):
        return [_strict(v) for v in node]
    if not isinstance(node, dict):
        return node
    node = {k: _strict(v) for k, v in node.items() if k not in _DROPPED}
    if node.get("type") == "object" or "properties" in node:
        properties: dict[str, Any] = node.get("properties", {})
        required = set(node.get("required", []))
        node["properties"] = {k: (v if k in required else _nullable(v)) for k, v in properties.items()}
        node["required"] = list(properties)
        node["additionalProperties"] = False
    return node


def strict_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A pydantic JSON schema as strict mode takes it: no extra keys, every property required, optionals nullable."""
    strict: dict[str, Any] = _strict(schema)
    return strict


def tool_name(schema: ToolSchema) -> str:
    """The function name a tool schema offers (``?`` for a schema without one)."""
    function = schema.get("function")
    name = function.get("name") if isinstance(function, dict) else None
    return name if isinstance(name, str) else "?"


def tool_schema(spec: AnySpec) -> ToolSchema:
    kind = (
        "Read-only: runs at once and its result comes back."
        if not spec.mutating
        else (f"Changes state (risk {spec.risk.value}): policy decides it; it may wait for approval or be refused.")
    )
    return {
        "type": "function",
        "function": {
            "name": spec.name,
            "description": f"{spec.description} {kind}",
            "parameters": strict_schema(spec.input_model.model_json_schema()),
            "strict": True,
        },
    }


def decode(spec: AnySpec, arguments: str) -> ActionCall:
    """The model's arguments as a call: JSON object, nulls of optional parameters dropped (their defaults apply).
    Raise ValueError when the arguments are not a JSON object."""
    params = json.loads(arguments or "{}")
    if not isinstance(params, dict):
        raise ValueError("the arguments must be a JSON object")
    required = set(spec.input_model.model_json_schema().get("required", []))
    return ActionCall(action=spec.name, params={k: v for k, v in params.items() if v is not None or k in required})
