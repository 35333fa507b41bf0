"""The catalog: packs of actions, each pack with the scopes its service account is granted."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from actiondesk.actions.spec import ActionInput, ActionSpec
from actiondesk.core.errors import ConfigurationError, InvalidParametersError, ScopeError, UnknownActionError
from actiondesk.core.plan import ActionCall

# The catalog holds specs of every input and output model; a call's parameters are checked against the spec's own
# input model at run time (``validate``), which the type of a heterogeneous collection cannot express.
AnySpec = ActionSpec[Any, Any]


@dataclass(frozen=True)
class Pack:
    """Actions that run under one service account, granted ``scopes`` (exactly those its actions need).

    ``credential`` names the service account's secret in ACTIONDESK_PACK_CREDENTIALS; it is never in a pack.
    """

    name: str
    scopes: frozenset[str]
    actions: tuple[AnySpec, ...]
    service_account: str = ""
    credential: str | None = None
    description: str = ""

    def __post_init__(self) -> None:
        needed = frozenset(spec.scope for spec in self.actions)
        if needed != self.scopes:
            raise ConfigurationError(
                f"pack {self.name}: scopes {sorted(self.scopes)} are not the ones its actions need {sorted(needed)}"
            )


class Catalog:
    def __init__(self, packs: Iterable[Pack], granted: Mapping[str, Iterable[str]] | None = None) -> None:
        self._specs: dict[str, AnySpec] = {}
        self._granted: dict[str, frozenset[str]] = {}
        granted = granted or {}
        self._packs = list(packs)
        for pack in self._packs:
            narrowed = frozenset(granted[pack.name]) if pack.name in granted else pack.scopes
            unknown = narrowed - pack.scopes
            if unknown:
                raise ConfigurationError(f"pack {pack.name}: scopes {sorted(unknown)} are not the pack's to grant")
            self._granted[pack.name] = narrowed
            for spec in pack.actions:
                if spec.name in self._specs:
                    raise ConfigurationError(f"action {spec.name} is defined twice")
                self._specs[spec.name] = spec

    def packs(self) -> list[Pack]:
        return list(self._packs)

    def granted(self, pack: str) -> frozenset[str]:
        return self._granted.get(pack, frozenset())

    def names(self) -> list[str]:
        return sorted(self._specs)

    def get(self, name: str) -> AnySpec:
        try:
            return self._specs[name]
        except KeyError:
            raise UnknownActionError(f"unknown action {name!r}; the catalog has {', '.join(self.names())}") from None

    def validate(self, call: ActionCall) -> tuple[AnySpec, ActionInput]:
        """Resolve and validate a proposed call; raise UnknownActionError, InvalidParametersError or ScopeError."""
        spec = self.get(call.action)
        try:
            params = spec.input_model.model_validate(call.params)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or '(input)'}: {err['msg']}" for err in exc.errors()
            )
            raise InvalidParametersError(f"{call.action}: {problems}") from None
        if spec.scope not in self._granted.get(spec.pack, frozenset()):
            raise ScopeError(f"{call.action} needs scope {spec.scope!r}, which pack {spec.pack!r} is not granted")
        return spec, params
