"""The catalog is what a planner (or a model) sees: stable names, documented strict schemas, scopes per pack."""

from __future__ import annotations

import pytest

from actiondesk.actions.catalog import Catalog, Pack
from actiondesk.actions.packs import builtin_packs
from actiondesk.actions.packs.deployments import ListDeployments
from actiondesk.core.errors import ConfigurationError, InvalidParametersError, ScopeError
from actiondesk.core.governance import Risk
from actiondesk.core.plan import ActionCall

CATALOG = Catalog(builtin_packs())
NAMES = [
    "get_cpu",
    "get_error_rate",
    "get_latency",
    "get_logs",
    "get_pod_status",
    "get_trace",
    "list_changes",
    "list_deployments",
    "list_services",
    "rollback_deployment",
    "scale_service",
    "set_config_value",
    "set_feature_flag",
]
PARAMETERLESS = {"list_services"}  # the whole estate: nothing to narrow
INVERSES = {
    "rollback_deployment": ({"service": "search", "to_version": "v1.8.0"}, {"version": "v1.8.2"}, "to_version"),
    "set_config_value": ({"service": "cart", "key": "cartFailure", "value": "false"}, {"value": "true"}, "value"),
    "set_feature_flag": ({"service": "ad", "key": "adHighCpu", "value": "off"}, {"value": "on"}, "value"),
    "scale_service": ({"service": "accounting", "replicas": 2}, {"replicas": 0}, "replicas"),
}


def test_names_are_the_stable_verb_noun_names() -> None:
    assert CATALOG.names() == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_every_input_property_is_described_and_extra_fields_are_forbidden(name: str) -> None:
    spec = CATALOG.get(name)
    schema = spec.input_model.model_json_schema()

    assert spec.description.strip(), f"{name} has no description"
    assert schema.get("additionalProperties") is False, f"{name} accepts fields it does not declare"
    assert schema["properties"] or name in PARAMETERLESS, f"{name} takes no parameters?"
    undocumented = [
        key for key, prop in schema.get("properties", {}).items() if not str(prop.get("description", "")).strip()
    ]
    assert undocumented == [], f"{name}: properties without a description: {undocumented}"


@pytest.mark.parametrize("name", NAMES)
def test_an_extra_field_is_an_error_not_dropped(name: str) -> None:
    with pytest.raises(InvalidParametersError, match="extra_field"):
        CATALOG.validate(ActionCall(action=name, params={"service": "search", "extra_field": "x"}))


@pytest.mark.parametrize("name", sorted(INVERSES))
def test_each_kind_of_change_has_an_inverse_that_restores_the_snapshot(name: str) -> None:
    spec = CATALOG.get(name)
    given, snapshot, field = INVERSES[name]
    params = spec.input_model.model_validate(given)
    undo = spec.inverse({"service": given["service"], **snapshot}, params)

    assert undo is not None
    assert undo.action == name
    assert undo.params[field] == next(iter(snapshot.values()))
    CATALOG.validate(undo)  # the inverse is itself a valid call of the catalog


def test_the_mutating_actions_are_the_inverses_of_the_kinds_of_change() -> None:
    mutating = [n for n in NAMES if CATALOG.get(n).mutating]
    assert mutating == sorted(INVERSES)
    spec = CATALOG.get("rollback_deployment")
    assert spec.risk is Risk.MEDIUM
    assert spec.scope == "deployments:write"
    params = spec.input_model.model_validate({"service": "search", "to_version": "v1.8.0"})
    undo = spec.inverse({"service": "search", "version": "v1.8.2", "commit": "f19c3a5"}, params)
    assert undo is not None
    assert (undo.action, undo.params["to_version"]) == ("rollback_deployment", "v1.8.2")


def test_scopes_can_be_narrowed_but_never_widened() -> None:
    narrowed = Catalog(builtin_packs(), {"deployments": ["deployments:read"]})
    narrowed.validate(ActionCall(action="list_deployments", params={"service": "search"}))
    with pytest.raises(ScopeError):
        narrowed.validate(ActionCall(action="rollback_deployment", params={"service": "search", "to_version": "v1"}))
    with pytest.raises(ConfigurationError, match="not the pack's to grant"):
        Catalog(builtin_packs(), {"telemetry": ["metrics:read", "deployments:write"]})


def test_an_action_defined_twice_is_a_configuration_error() -> None:
    twin = Pack(name="twin", scopes=frozenset({"deployments:read"}), actions=(ListDeployments(),))
    with pytest.raises(ConfigurationError, match="list_deployments"):
        Catalog([*builtin_packs(), twin])
