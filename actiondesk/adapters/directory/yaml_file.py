"""A Directory read from YAML::

    people:
      alice: {email: alice@example.com, groups: [support], slack_user_id: U0ALICE}
      bob: {email: bob@example.com, groups: [sre], teams_aad_object_id: "00000000-0000-0000-0000-000000000b0b"}

Chat users map to people by their chat id first, else by email (case-insensitive).
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from actiondesk.core.errors import ConfigurationError
from actiondesk.core.estate import Person

_NAME = r"^[a-z0-9][a-z0-9._-]{0,63}$"


class PersonEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")
    groups: tuple[str, ...] = ()
    slack_user_id: str | None = Field(default=None, pattern=r"^[UW][A-Z0-9]{2,}$")
    teams_aad_object_id: str | None = None


class DirectoryFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    people: dict[str, PersonEntry]


def load_directory(path: Path) -> DirectoryFile:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        parsed = DirectoryFile.model_validate(data)
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigurationError(f"directory file {path}: {exc}") from None
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ConfigurationError(f"directory file {path}: {problems}") from None
    for name in parsed.people:
        if not re.match(_NAME, name):
            raise ConfigurationError(f"directory file {path}: people.{name}: not a valid person name")
    return parsed


class YamlDirectory:
    """The Directory port over a YAML file, read once at start-up."""

    def __init__(self, entries: DirectoryFile) -> None:
        self._people = {
            name: Person(
                name=name,
                email=e.email,
                groups=frozenset(e.groups),
                slack_user_id=e.slack_user_id,
                teams_aad_object_id=e.teams_aad_object_id,
            )
            for name, e in entries.people.items()
        }

    @classmethod
    def from_file(cls, path: Path) -> YamlDirectory:
        return cls(load_directory(path))

    def person(self, name: str) -> Person | None:
        return self._people.get(name)

    def members(self, group: str) -> frozenset[str]:
        return frozenset(name for name, p in self._people.items() if group in p.groups)

    def people(self) -> list[Person]:
        return [self._people[name] for name in sorted(self._people)]

    def find_person(
        self, slack_user_id: str | None = None, email: str | None = None, teams_aad_object_id: str | None = None
    ) -> Person | None:
        for person in self._people.values():
            if (slack_user_id and person.slack_user_id == slack_user_id) or (
                teams_aad_object_id and person.teams_aad_object_id == teams_aad_object_id
            ):
                return person
        if email:
            for person in self._people.values():
                if person.email.lower() == email.lower():
                    return person
        return None
