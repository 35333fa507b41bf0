"""Where each Teams case lives: its conversation reference, card ids and what was already posted.

Kept as state blobs (``teams:case:<id>``), plus a map from a conversation (a channel thread, or a personal
chat) to its latest case, and the channel new alert-opened cases are posted to.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from pydantic import BaseModel, Field

from actiondesk.core.ports import StateBlobs

HOME = "teams:home"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:40]


def delivery_key(kind: str, conversation_id: str, activity_id: str) -> str:
    """A dedupe key for ``uow.remember`` (at most 255 characters whatever Teams' ids look like)."""
    return f"teams:{kind}:{_digest(conversation_id + '|' + activity_id)}"


class TeamsThread(BaseModel):
    case_id: str
    reference: dict[str, Any] = Field(description="botbuilder ConversationReference, serialized.")
    card_id: str = ""
    card_hash: str = ""
    approval_cards: dict[str, str] = Field(default_factory=dict)
    approval_states: dict[str, str] = Field(default_factory=dict)
    question_cards: dict[str, str] = Field(default_factory=dict, description="question seq -> activity id")
    question_states: dict[str, str] = Field(default_factory=dict, description="question seq -> open or closed")
    seq: int = 0


class Threads:
    def __init__(self, blobs: StateBlobs) -> None:
        self._blobs = blobs

    def load(self, case_id: str) -> TeamsThread | None:
        text = self._blobs.get_blob(f"teams:case:{case_id}")
        return TeamsThread.model_validate_json(text) if text else None

    def save(self, thread: TeamsThread) -> None:
        self._blobs.put_blob(f"teams:case:{thread.case_id}", thread.model_dump_json())

    def case_for(self, conversation_id: str) -> str | None:
        return self._blobs.get_blob(f"teams:conversation:{_digest(conversation_id)}")

    def bind(self, conversation_id: str, case_id: str) -> None:
        self._blobs.put_blob(f"teams:conversation:{_digest(conversation_id)}", case_id)

    def home(self) -> dict[str, Any] | None:
        text = self._blobs.get_blob(HOME)
        return TeamsThread.model_validate_json(text).reference if text else None

    def set_home(self, reference: dict[str, Any]) -> None:
        self._blobs.put_blob(HOME, TeamsThread(case_id="", reference=reference).model_dump_json())


def card_digest(card: dict[str, Any]) -> str:
    return _digest(json.dumps(card, sort_keys=True))
