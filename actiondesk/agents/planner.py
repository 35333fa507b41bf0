"""The runbook planner: deterministic YAML runbooks for the patterns known to be solvable."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationError

from actiondesk.core import yamltext
from actiondesk.core.case import Case
from actiondesk.core.errors import ConfigurationError
from actiondesk.core.finding import Finding, FindingKind
from actiondesk.core.plan import ActionCall, Plan, PlanStep

log = logging.getLogger(__name__)

_FIELD = re.compile(r"\{([a-z_]+(?:\.[a-z_]+)*)\}")


class RunbookStep(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    action: str
    rationale: str
    params: dict[str, str | int | float | bool] = Field(default_factory=dict)


class Trigger(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    finding: FindingKind
    services: tuple[str, ...] = ()  # empty: any service


class Runbook(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    description: str
    when: Trigger
    goal: str
    steps: tuple[RunbookStep, ...] = Field(min_length=1)
    verify: Literal["signals", "error_rate", "actions"] = Field(
        default="actions",
        description="signals: the finding's anomalous signals back to their baselines (error_rate: the same); "
        "actions: every step succeeded.",
    )


# A field that may be absent on purpose: a config key that did not exist before the bad change is removed.
NULLABLE = frozenset({"finding.culprit.previous_value"})


def _value(path: str, case: Case, finding: Finding) -> object:
    roots: dict[str, object] = {"case": case, "finding": finding}
    head, *rest = path.split(".")
    value = roots.get(head)
    for part in rest:
        value = getattr(value, part, None)
    if value is None and path not in NULLABLE:
        raise LookupError(path)
    return value


def _fill(template: str, case: Case, finding: Finding) -> str:
    return _FIELD.sub(lambda m: str(_value(m.group(1), case, finding)), template)


def _param(template: str | int | float | bool, case: Case, finding: Finding) -> JsonValue:
    """A step parameter: a template that is one field keeps the field's type (a replica count stays a number,
    an absent previous value stays null); any other template is text."""
    if not isinstance(template, str):
        return template
    whole = _FIELD.fullmatch(template)
    if whole is not None:
        value = _value(whole.group(1), case, finding)
        return value if value is None or isinstance(value, int | float | bool) else str(value)
    return _fill(template, case, finding)


def load_runbook(path: Path) -> Runbook:
    try:
        data = yamltext.safe_load(path.read_text(encoding="utf-8"))
        return Runbook.model_validate(data)
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigurationError(f"runbook {path}: {exc}") from None
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ConfigurationError(f"runbook {path}: {problems}") from None


def builtin_runbook_paths() -> list[Path]:
    folder = resources.files("actiondesk.agents") / "runbooks"
    return sorted(Path(str(p)) for p in folder.iterdir() if p.name.endswith(".yaml"))


class RunbookPlanner:
    """Match a finding to the first runbook whose trigger fits, and fill in its steps."""

    def __init__(self, runbooks: Iterable[Runbook]) -> None:
        self.runbooks: dict[str, Runbook] = {}
        for runbook in runbooks:
            self.runbooks[runbook.name] = runbook  # a later runbook of the same name replaces an earlier one

    @classmethod
    def from_paths(cls, paths: Iterable[Path]) -> RunbookPlanner:
        return cls(load_runbook(p) for p in paths)

    def match(self, finding: Finding) -> Runbook | None:
        for runbook in self.runbooks.values():
            if runbook.when.finding is finding.kind and (
                not runbook.when.services or finding.service in runbook.when.services
            ):
                return runbook
        return None

    def plan(self, case: Case, finding: Finding) -> Plan | None:
        runbook = self.match(finding)
        if runbook is None:
            return None
        try:
            steps = tuple(
                PlanStep(
                    index=i,
                    call=ActionCall(
                        action=step.action,
                        params={k: _param(v, case, finding) for k, v in step.params.items()},
                    ),
                    rationale=_fill(step.rationale, case, finding),
                )
                for i, step in enumerate(runbook.steps)
            )
            goal = _fill(runbook.goal, case, finding)
        except LookupError as exc:
            log.warning("case %s: runbook %s needs %s, which the finding lacks", case.id, runbook.name, exc)
            return None
        return Plan(runbook=runbook.name, goal=goal, steps=steps)

    def verification(self, runbook_name: str) -> str:
        runbook = self.runbooks.get(runbook_name)
        return runbook.verify if runbook else "actions"
