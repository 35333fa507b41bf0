"""The fallback `text` of every message ActionDesk posts is escaped like its blocks: a case title or an approval
parameter cannot ping a channel or forge a link in notifications (defect found under attack)."""

from __future__ import annotations

from datetime import UTC, datetime

from actiondesk.bot.slack.blocks import card_text, status_text
from actiondesk.core.approval import Approval
from actiondesk.core.case import Case, CaseKind
from actiondesk.core.plan import ActionCall

AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
HOSTILE = "<!channel> deploy & <https://evil.example|click> <@U0BOB>"


def test_status_fallback_text_escapes_angle_brackets_and_ampersands():
    case = Case(
        id="C-1", kind=CaseKind.INCIDENT, title=HOSTILE, text=HOSTILE, reporter="alice", created_at=AT, updated_at=AT
    )
    text = status_text(case, HOSTILE)
    assert not {"<", ">"} & set(text)
    assert "&lt;!channel&gt; deploy &amp; &lt;https://evil.example|click&gt; &lt;@U0BOB&gt;" in text


def test_approval_card_fallback_text_escapes_too():
    approval = Approval(
        id="A-1",
        case_id="C-1",
        step_index=0,
        call=ActionCall(action="reset_vpn_session", params={"user": HOSTILE}),
        target="<!here>",
        group="sre",
        production=True,
        requested_by="alice",
        proposed_by="actiondesk",
        created_at=AT,
        expires_at=AT,
    )
    text = card_text(approval)
    assert not {"<", ">"} & set(text)
    assert "&lt;!here&gt;" in text
