"""Post-mortems: built by code from the stored facts of a resolved incident (its audit trail, its case and
finding, its approvals), rendered as Markdown. A model may add a summary paragraph; no fact comes from it."""

from actiondesk.agents.postmortem.build import build_postmortem
from actiondesk.agents.postmortem.markdown import render_markdown
from actiondesk.agents.postmortem.model import PostMortem
from actiondesk.agents.postmortem.read import stored_postmortem

__all__ = ["PostMortem", "build_postmortem", "render_markdown", "stored_postmortem"]
