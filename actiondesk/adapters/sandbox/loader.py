"""Reading scenario files: YAML -> ``Scenario``, every problem reported with the file and its key path."""

from __future__ import annotations

import copy
import re
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from actiondesk.adapters.sandbox.default import default_estate
from actiondesk.adapters.sandbox.events import EVENT_KINDS
from actiondesk.adapters.sandbox.overrides import NEW_SERVICE_REQUIRES
from actiondesk.adapters.sandbox.scenario import Scenario
from actiondesk.adapters.sandbox.world import EstateState
from actiondesk.core.errors import ScenarioError

_AUTONOMY_KEY = re.compile(r"^(tier:\d+|[^@\s]+(@[^@\s]+)?)$")


class _ScenarioLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice in one mapping (YAML would silently keep the last one) and
    reads only true/false as booleans (YAML 1.2), so ``reason: no`` stays the text "no"."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[object, object]:
        seen: set[object] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} appears twice in one mapping", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


_BOOL = "tag:yaml.org,2002:bool"
_ScenarioLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _BOOL]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_ScenarioLoader.add_implicit_resolver(_BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


def _path(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def _reason(error: ErrorDetails) -> str:
    loc, kind = error["loc"], error["type"]
    if kind == "missing":
        return "required key is missing"
    if kind == "extra_forbidden":
        if len(loc) == 3 and loc[0] == "events" and isinstance(loc[1], int):
            return f"unknown event kind {loc[2]!r} (kinds: {', '.join(EVENT_KINDS)})"
        return f"unknown key {loc[-1]!r}"
    message = error["msg"].removeprefix("Value error, ")
    value = error.get("input")
    if isinstance(value, str | int | float | bool) and kind not in {"value_error", "assertion_error"}:
        message += f" (got {value!r})"
    return message


def _problems(exc: ValidationError) -> list[tuple[str, str]]:
    return [(_path(tuple(e["loc"])), _reason(e)) for e in exc.errors()]


def _world_problems(scenario: Scenario, defaults: EstateState) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    known = {s.name for s in defaults.services} | set(scenario.world.services)
    for name, spec in scenario.world.services.items():
        if name not in {s.name for s in defaults.services}:
            for key in NEW_SERVICE_REQUIRES:
                if getattr(spec, key) is None:
                    problems.append((f"world.services.{name}.{key}", "required for a new service"))
        for field in ("depends_on", "calls"):
            for i, dep in enumerate(getattr(spec, field) or ()):
                if dep not in known:
                    problems.append((f"world.services.{name}.{field}[{i}]", f"unknown service {dep!r}"))
    return problems


def _check(scenario: Scenario) -> list[tuple[str, str]]:
    """Cross-checks pydantic cannot make: names against the world, order of ``at``."""
    problems = _world_problems(scenario, default_estate(scenario.start))
    if problems:
        return problems
    world = scenario.build_world()
    services = {s.name for s in world.services}
    hosts = {v.host for v in world.volumes}

    def service(path: str, name: str | None) -> None:
        if name is not None and name not in services:
            problems.append((path, f"unknown service {name!r} (known: {', '.join(sorted(services))})"))

    def person(path: str, name: str | None) -> None:
        if name is not None and name not in world.people:
            problems.append((path, f"unknown person {name!r} (known: {', '.join(sorted(world.people))})"))

    for i, window in enumerate(scenario.policy.freeze):
        for j, name in enumerate(window.services or ()):
            service(f"policy.freeze[{i}].services[{j}]", name)
    for i, chaos in enumerate(scenario.policy.chaos_days):
        service(f"policy.chaos_days[{i}].service", chaos.service)
    for key, level in scenario.policy.autonomy.items():
        if not _AUTONOMY_KEY.match(key):
            problems.append((f"policy.autonomy.{key}", 'a key is a service, "service@environment" or "tier:N"'))
        elif not key.startswith("tier:"):
            service(f"policy.autonomy.{key}", key.split("@")[0])
        if not 0 <= level <= 3:
            problems.append((f"policy.autonomy.{key}", f"a level is 0 (suggest) to 3 (autonomous), got {level}"))
    last_at: tuple[int, float] | None = None
    opened = False
    for i, event in enumerate(scenario.events):
        if event.kind == "reply" and not opened:
            problems.append((f"events[{i}].reply", "a reply needs a message or alert before it to answer"))
        opened = opened or event.kind in ("message", "alert")
        if event.at is not None:
            if last_at is not None and event.at < last_at[1]:
                problems.append(
                    (f"events[{i}].at", f"at {event.at:g} is before events[{last_at[0]}].at {last_at[1]:g}")
                )
            last_at = (i, event.at)
        payload, base = event.payload, f"events[{i}].{event.kind}"
        service(f"{base}.service", getattr(payload, "service", None))
        person(f"{base}.user", getattr(payload, "user", None))
        host = getattr(payload, "host", None)
        if host is not None and host not in hosts:
            problems.append((f"{base}.host", f"unknown host {host!r} (known: {', '.join(sorted(hosts))})"))
    if scenario.expect.root_cause is not None:
        service("expect.root_cause.service", scenario.expect.root_cause.service)
    return problems


def _fail(source: str, problems: list[tuple[str, str]]) -> ScenarioError:
    lines = [f"{source}: {path}: {reason}" for path, reason in problems]
    return ScenarioError("\n".join(lines))


@lru_cache(maxsize=256)
def _parsed(text: str) -> object:
    """The YAML of a scenario text, parsed once (scenarios are played again and again); errors never kept."""
    return yaml.load(text, Loader=_ScenarioLoader)  # noqa: S506 - a SafeLoader subclass


def parse_scenario(text: str, source: str = "<scenario>") -> Scenario:
    """Parse and validate scenario YAML; raise ScenarioError naming ``source`` and each bad key path."""
    try:
        data = copy.deepcopy(_parsed(text))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise ScenarioError(f"{source}: not valid YAML{where}: {exc.problem or exc}") from exc
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{source}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        kind = "an empty file" if data is None else f"a {type(data).__name__}"
        raise ScenarioError(f"{source}: a scenario is a mapping (name, world, policy, events, expect), got {kind}")
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise _fail(source, _problems(exc)) from None
    problems = _check(scenario)
    if problems:
        raise _fail(source, problems)
    return scenario


def load_scenario(path: str | Path) -> Scenario:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read the scenario file: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"{path}: not UTF-8 text: {exc}") from exc
    return parse_scenario(text, str(path))
