"""Paging vocabulary: what a page to the owner's on-call says, as it travels through the outbox to a pager
(PagerDuty, Opsgenie). A page is keyed by its case, so the pager itself folds repeats into one alert."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class PageAction(StrEnum):
    TRIGGER = "trigger"  # open (or, with the same key, add to) the alert
    RESOLVE = "resolve"  # close it: the case resolved


class Severity(StrEnum):
    """PagerDuty's severities; Opsgenie's priorities P1-P5 are mapped from them by its adapter."""

    CRITICAL = "critical"
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class PageDraft(BaseModel):
    model_config = ConfigDict(frozen=True)

    action: PageAction
    dedup_key: str = Field(description="The case id: PagerDuty's dedup_key, Opsgenie's alias.")
    summary: str = Field(default="", description="One line for the alert title (trigger only).")
    service: str | None = None
    team: str = ""
    group: str = ""
    severity: Severity = Severity.ERROR
    reason: str = Field(default="", description="Why the case was handed to people, or how it ended.")
    details: dict[str, str] = Field(default_factory=dict)
