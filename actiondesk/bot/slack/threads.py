"""Where each case lives in Slack, kept in the store's named JSON documents (state blobs).

``case.thread`` holds the channel and thread the case was opened in. The blob ``slack/case/<id>`` holds what
the bot posted there (the status message's ts, each approval card's and each question's ts, the newest answer
to a reply posted), so edits use ``chat.update``
with the stored channel and ts, never a ``response_url`` that dies after 30 minutes. The blob
``slack/thread/<channel>/<ts>`` maps a thread back to its case, so replies reach it.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from actiondesk.core.case import Case
from actiondesk.core.ports import StateBlobs

CHANNEL = "slack_channel"
THREAD = "slack_thread_ts"
TEAM = "slack_team"


class Posted(BaseModel):
    status_ts: str | None = None
    status_text: str | None = None
    cards: dict[str, str] = Field(default_factory=dict, description="approval id -> ts of its card")
    card_states: dict[str, str] = Field(default_factory=dict, description="approval id -> status shown")
    questions: dict[str, str] = Field(default_factory=dict, description="question seq -> ts of its message")
    question_states: dict[str, str] = Field(default_factory=dict, description="question seq -> open or closed")
    replied: int = Field(default=0, description="seq of the newest answer to a reply posted in the thread")


def thread_of(case: Case) -> tuple[str, str] | None:
    channel, ts = case.thread.get(CHANNEL), case.thread.get(THREAD)
    return (channel, ts) if channel and ts else None


class Threads:
    def __init__(self, blobs: StateBlobs) -> None:
        self._blobs = blobs

    def posted(self, case_id: str) -> Posted:
        text = self._blobs.get_blob(f"slack/case/{case_id}")
        return Posted.model_validate_json(text) if text else Posted()

    def save_posted(self, case_id: str, posted: Posted) -> None:
        self._blobs.put_blob(f"slack/case/{case_id}", posted.model_dump_json())

    def link(self, channel: str, thread_ts: str, case_id: str) -> None:
        self._blobs.put_blob(f"slack/thread/{channel}/{thread_ts}", case_id)

    def case_in(self, channel: str, thread_ts: str) -> str | None:
        return self._blobs.get_blob(f"slack/thread/{channel}/{thread_ts}")
