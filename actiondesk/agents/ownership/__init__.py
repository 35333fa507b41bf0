"""When a person takes over: owners, hand-offs and pages, pick-ups, notices of actions that ran alone, and the
post-mortem written when an incident resolves."""

from actiondesk.agents.ownership.handoff import TakeOver, history_of
from actiondesk.agents.ownership.owners import OwnerBook, OwnersFile, TeamSpec, builtin_owners_path

__all__ = ["OwnerBook", "OwnersFile", "TakeOver", "TeamSpec", "builtin_owners_path", "history_of"]
