"""The payload model every audit kind's model derives from (see the package's docstring)."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Self

from pydantic import BaseModel, ConfigDict, JsonValue

from actiondesk.core.audit import AuditDraft, AuditKind

Number = int | float  # kept as written: an int stays an int, so its JSON does not gain a ".0"


class Payload(BaseModel):
    """The payload of one audit kind (``kind``); subclasses add the fields its writers set."""

    model_config = ConfigDict(frozen=True, extra="allow", populate_by_name=True)

    kind: ClassVar[AuditKind]

    def dump(self) -> dict[str, JsonValue]:
        """The stored JSON: the fields that were set, extra keys included, nothing filled in."""
        return self.model_dump(mode="json", exclude_unset=True, by_alias=True)

    @classmethod
    def of(cls, model: BaseModel) -> Self:
        """The payload that is ``model``'s JSON (for kinds that record a core model whole)."""
        return cls.model_validate(model.model_dump(mode="json"))

    def draft(self, case_id: str | None, actor: str, at: datetime) -> AuditDraft:
        return AuditDraft(kind=self.kind, case_id=case_id, actor=actor, at=at, payload=self.dump())
