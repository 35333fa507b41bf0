"""The role catalog: what each job role gets (groups, hardware bundle, licences) and which groups are privileged.

Read from YAML (``ACTIONDESK_ROLES_FILE``, else the sandbox's ``agents/roles/sandbox.yaml``) and checked when
the server starts: a privileged group must be one of its role's groups, and one group has one owner across
every role. Errors name the file and the role.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from actiondesk.core import yamltext
from actiondesk.core.errors import ConfigurationError
from actiondesk.core.fulfilment import Role

_NAME = re.compile(r"^[a-z][a-z0-9-]{1,40}$")


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")

    roles: dict[str, dict[str, object]] = Field(min_length=1)


def builtin_roles_path() -> Path:
    return Path(str(resources.files("actiondesk.agents") / "roles" / "sandbox.yaml"))


def _words(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split())


class RoleCatalog:
    def __init__(self, roles: dict[str, Role], source: str = "(built-in)") -> None:
        self.roles = roles
        self.source = source
        owners: dict[str, tuple[str, str]] = {}
        for role in roles.values():
            for group, owner in role.privileged.items():
                if group not in role.groups:
                    raise ConfigurationError(
                        f"{source}: role {role.name}: privileged group {group} is not one of its groups"
                    )
                seen = owners.get(group)
                if seen is not None and seen[0] != owner:
                    raise ConfigurationError(
                        f"{source}: group {group} has two owners: {seen[0]} ({seen[1]}), {owner} ({role.name})"
                    )
                owners[group] = (owner, role.name)
        self._owners = {group: owner for group, (owner, _) in owners.items()}

    @classmethod
    def load(cls, path: Path | None = None) -> RoleCatalog:
        path = path or builtin_roles_path()
        try:
            raw = yamltext.safe_load(path.read_text(encoding="utf-8"))
            parsed = _File.model_validate(raw)
        except OSError as exc:
            raise ConfigurationError(f"{path}: cannot read the role catalog: {exc.strerror}") from None
        except yaml.YAMLError as exc:
            raise ConfigurationError(f"{path}: not YAML: {exc}") from None
        except ValidationError as exc:
            raise ConfigurationError(f"{path}: needs a `roles:` mapping of role name to role") from exc
        roles: dict[str, Role] = {}
        for name, body in parsed.roles.items():
            if not _NAME.match(name):
                raise ConfigurationError(f"{path}: role name {name!r}: lower case letters, digits and dashes")
            try:
                roles[name] = Role.model_validate({"name": name, **body})
            except ValidationError as exc:
                problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
                raise ConfigurationError(f"{path}: role {name}: {problems}") from None
        return cls(roles, str(path))

    def names(self) -> list[str]:
        return sorted(self.roles)

    def find(self, text: str) -> Role | None:
        """The role named (by its name, title or an alias; case, dashes and spacing do not matter)."""
        wanted = _words(text)
        for role in self.roles.values():
            if wanted in {_words(role.name), _words(role.title), *(_words(a) for a in role.aliases)}:
                return role
        return None

    def privileged_groups(self) -> dict[str, str]:
        """Every privileged group → the owner group that approves who joins it."""
        return dict(self._owners)
