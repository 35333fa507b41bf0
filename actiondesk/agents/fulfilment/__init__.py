"""Request fulfilment: onboarding and offboarding carried out by the Identity, Hardware and Access agents."""

from actiondesk.agents.fulfilment.desk import FulfilmentDesk
from actiondesk.agents.fulfilment.forms import HireForm
from actiondesk.agents.fulfilment.roles import RoleCatalog

__all__ = ["FulfilmentDesk", "HireForm", "RoleCatalog"]
