"""Governance: decide allow / approve / suggest / deny for every proposed call, from policy data alone.

``engine`` gathers the facts (``facts``: trust-ladder level, freezes, chaos days, breaker, kill switch) and asks
the Cedar policy set (``cedar``) whether the agent may run the call alone, ``verdict`` saying why;
``calendars`` reads freeze and chaos-day calendars. The model (or runbook) that proposed a call has no say here.
"""

from actiondesk.agents.governance.cedar import PolicyError, PolicySnapshot, PolicyStore, load_policies
from actiondesk.agents.governance.engine import Governance
from actiondesk.agents.governance.facts import Facts, PolicyData, autonomy_level
from actiondesk.agents.windows import Window

__all__ = [
    "Facts",
    "Governance",
    "PolicyData",
    "PolicyError",
    "PolicySnapshot",
    "PolicyStore",
    "Window",
    "autonomy_level",
    "load_policies",
]
