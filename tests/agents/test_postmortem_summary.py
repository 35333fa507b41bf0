"""With a model configured, a written post-mortem gets a summary paragraph afterwards, from a local
OpenAI-compatible endpoint: the facts go to it fenced and redacted, its paragraph is stored apart and labelled,
asked for once, and a model that fails leaves the post-mortem as it was."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest
from llmscript import ScriptedModel, fail, say

from actiondesk.agents.postmortem import render_markdown, stored_postmortem
from actiondesk.core.audit import AuditKind

if TYPE_CHECKING:
    from conftest import Desk, MakeDesk


@pytest.fixture
def model() -> Iterator[ScriptedModel]:
    server = ScriptedModel().start()
    yield server
    server.stop()
    server.assert_done()


def resolved(make_desk: MakeDesk, base_url: str) -> tuple[Desk, str]:
    desk = make_desk(openai_base_url=base_url, llm_model="scripted-1", llm_timeout_seconds=5.0, planner="runbook")
    desk.bad_deploy()
    case = desk.report("payment gateway is throwing 500s, token=xoxb-123-secret")
    desk.approve(case.id, "bob")
    return desk, case.id


def test_a_summary_paragraph_is_added_once_and_labelled(make_desk: MakeDesk, model: ScriptedModel) -> None:
    def facts_only(request: dict[str, Any]) -> None:
        system, user = request["messages"]
        assert "add no fact" in system["content"]
        assert user["content"].startswith("<post-mortem>\n# Post-mortem ")
        assert "9f3c2ab" in user["content"]
        assert "xoxb-123-secret" not in user["content"]
        assert request.get("tools") in (None, [])

    model.add(say("Payment card charges failed for four minutes after v2.5.0;\nit was rolled back.", check=facts_only))
    desk, case_id = resolved(make_desk, model.base_url)
    summaries = desk.runtime.summaries
    assert summaries is not None
    since = desk.clock.now() - timedelta(days=1)
    assert summaries.due(since) == [case_id]
    assert summaries.write_due(since) == 1
    assert summaries.write_due(since) == 0, "asked once"
    (entry,) = [e for e in desk.audit(case_id) if e.kind is AuditKind.POSTMORTEM_SUMMARY]
    assert entry.payload["text"] == "Payment card charges failed for four minutes after v2.5.0; it was rolled back."
    assert entry.payload["model"] == "scripted-1"
    pm = stored_postmortem(desk.audit(case_id))
    assert pm is not None
    assert pm.model_summary == entry.payload["text"]
    text = render_markdown(pm)
    assert "> Summary written by the model from the facts below (not a source of facts):" in text
    assert pm.root_cause is not None
    assert pm.root_cause.commit == "9f3c2ab", "the facts are the code's"


def test_a_failing_model_leaves_the_post_mortem_as_it_was(make_desk: MakeDesk, model: ScriptedModel) -> None:
    model.add(fail(500), fail(500), fail(500), fail(500))  # the first try and its three retries
    desk, case_id = resolved(make_desk, model.base_url)
    summaries = desk.runtime.summaries
    assert summaries is not None
    assert summaries.write_due(desk.clock.now() - timedelta(days=1)) == 0
    pm = stored_postmortem(desk.audit(case_id))
    assert pm is not None
    assert pm.model_summary is None


def test_without_a_model_there_is_no_summary_writer(desk: Desk) -> None:
    assert desk.runtime.summaries is None
