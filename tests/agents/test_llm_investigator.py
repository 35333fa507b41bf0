"""The model as investigator: the real `openai` client against a local endpoint replaying scripted turns. Where
triage's rules abstain, the model reads signals, changes, logs and topology with read-only tools and may name a
culprit — believed only when the deterministic check confirms that change came just before that service's
onset. A wrong culprit is refused and said so; nothing the investigator does changes state."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
from llmscript import Reply, ScriptedModel, call, last_tool_message, say

from actiondesk.adapters.sandbox import ConfigChangeEvent
from actiondesk.core.audit import AuditKind
from actiondesk.core.case import CaseStatus
from actiondesk.core.finding import FindingKind
from actiondesk.core.plan import StepStatus

if TYPE_CHECKING:
    from conftest import Desk, MakeDesk

PRICES = {"scripted-1": {"prompt": 2.0, "completion": 8.0}}
# checkout calls fraud-detection, but the catalog does not say so: the rules follow depends_on only.
HIDDEN = {
    "services": {
        "fraud-detection": {
            "tier": 2,
            "environment": "production",
            "version": "v0.4.0",
            "description": "Scores each order for fraud before it is paid",
            "config": {"model": "v3"},
        },
        "checkout": {"calls": ["fraud-detection"]},
    }
}
READ_LOGS = {"service": "checkout", "minutes": 30, "level": "ERROR", "limit": 20, "trace_id": None}
READ_CHANGES = {"service": "fraud-detection", "minutes": 60}
NAMED = {"service": "fraud-detection", "change_id": "chg-1", "reason": "checkout's errors name fraud-detection"}


@pytest.fixture
def model() -> Iterator[ScriptedModel]:
    server = ScriptedModel().start()
    yield server
    server.stop()
    server.assert_done()


def desk_with(make_desk: MakeDesk, model: ScriptedModel, planner: str) -> Desk:
    return make_desk(
        world=HIDDEN,
        planner=planner,
        openai_api_key="sk-test-key-for-the-scripted-endpoint",
        openai_base_url=model.base_url,
        llm_model="scripted-1",
        llm_prices=PRICES,
        llm_timeout_seconds=5.0,
    )


def break_fraud_detection(desk: Desk) -> None:
    """Someone switches fraud-detection to a new model; half its scores fail; checkout fails with them."""
    desk.estate.apply(ConfigChangeEvent(service="fraud-detection", key="model", value="v4", author="frank"))
    desk.wait(30)
    desk.fault("fraud-detection", 0.5)
    desk.wait(90)


def offered(request: dict[str, Any]) -> list[str]:
    return [t["function"]["name"] for t in request["tools"]]


def read_only_tools(request: dict[str, Any]) -> None:
    tools = offered(request)
    assert "name_culprit" in tools
    assert {"get_logs", "get_trace", "list_changes", "list_services", "get_error_rate", "get_latency"} <= set(tools)
    assert not {"rollback_deployment", "set_config_value", "set_feature_flag", "scale_service"} & set(tools)


def investigation(*, named: dict[str, str]) -> list[Reply]:
    return [
        call("get_logs", READ_LOGS, check=read_only_tools),
        call(
            "list_changes",
            READ_CHANGES,
            check=lambda r: "upstream fraud-detection answered 500" in last_tool_message(r)["result"],
        ),
        call("name_culprit", named, check=lambda r: '\\"id\\": \\"chg-1\\"' in last_tool_message(r)["result"]),
    ]


def test_rules_abstain_the_model_investigates_and_the_confirmed_culprit_is_fixed(
    make_desk: MakeDesk, model: ScriptedModel
) -> None:
    """ACTIONDESK_PLANNER=llm: the model investigates, then plans the fix; policy asks sre; it resolves."""
    model.add(
        *investigation(named=NAMED),
        call(
            "set_config_value",
            {"service": "fraud-detection", "key": "model", "value": "v3", "expected": "v4", "reason": "undo v4"},
        ),
        say("fraud-detection is back on model v3."),
    )
    desk = desk_with(make_desk, model, "llm")
    break_fraud_detection(desk)
    case = desk.report("checkout is throwing errors")

    assert case.status is CaseStatus.AWAITING_APPROVAL, "the rules alone abstain: checkout's catalog entry hides it"
    assert case.finding is not None
    assert case.finding.kind is FindingKind.BAD_CONFIG
    assert case.finding.culprit is not None
    assert (case.finding.culprit.service, case.finding.culprit.key) == ("fraud-detection", "model")
    assert case.finding.summary.startswith("Confirmed:")
    said = [str(e.payload["text"]) for e in desk.audit(case.id) if e.kind is AuditKind.MESSAGE]
    assert any("I asked the model to investigate" in text and "confirmed" in text for text in said)
    proposals = [e.payload for e in desk.audit(case.id) if e.payload.get("event") == "culprit_proposed"]
    assert [(p["service"], p["confirmed"]) for p in proposals] == [("fraud-detection", True)]
    probes = [e.payload["action"] for e in desk.audit(case.id) if e.kind is AuditKind.OBSERVATION]
    assert {"get_logs", "list_changes"} <= set(probes), "the model's reads went through the executor"

    case = desk.approve(case.id)

    assert case.status is CaseStatus.RESOLVED
    assert desk.estate.config("fraud-detection")["model"] == "v3"
    assert case.plan is not None
    assert [(s.call.action, s.status) for s in case.plan.steps] == [("set_config_value", StepStatus.SUCCEEDED)]
    checks = [e.payload for e in desk.audit(case.id) if e.kind is AuditKind.VERIFICATION]
    assert {c["service"] for c in checks[-1]["checks"]} == {"checkout", "fraud-detection"}  # type: ignore[union-attr]
    assert case.llm_calls == len(model.requests) == 5
    assert desk.store.verify_audit().ok


def test_a_wrong_culprit_is_not_believed_and_the_case_says_why(make_desk: MakeDesk, model: ScriptedModel) -> None:
    wrong = {"service": "checkout", "change_id": "chg-1", "reason": "checkout changed, surely"}
    model.add(*investigation(named=wrong))
    desk = desk_with(make_desk, model, "auto")
    break_fraud_detection(desk)
    case = desk.report("checkout is throwing errors")

    assert case.status is CaseStatus.ESCALATED
    assert case.finding is not None
    assert case.finding.abstained
    assert case.finding.culprit is None
    assert case.plan is None
    assert desk.store.runs(case.id) == [], "nothing ran"
    said = [str(e.payload["text"]) for e in desk.audit(case.id) if e.kind is AuditKind.MESSAGE]
    refusal = next(text for text in said if "I asked the model to investigate" in text)
    assert "checkout's change chg-1" in refusal
    assert "no change 'chg-1' was made to checkout" in refusal
    assert "not acting on it" in refusal
    proposals = [e.payload for e in desk.audit(case.id) if e.payload.get("event") == "culprit_proposed"]
    assert [(p["service"], p["confirmed"]) for p in proposals] == [("checkout", False)]


def test_a_culprit_whose_change_came_after_the_onset_is_refused(make_desk: MakeDesk, model: ScriptedModel) -> None:
    late = {"service": "fraud-detection", "change_id": "chg-2", "reason": "the newest change"}
    model.add(*investigation(named=late)[:2], call("name_culprit", late))
    desk = desk_with(make_desk, model, "auto")
    break_fraud_detection(desk)
    desk.estate.apply(ConfigChangeEvent(service="fraud-detection", key="threshold", value="0.9", author="frank"))
    case = desk.report("checkout is throwing errors")

    assert case.status is CaseStatus.ESCALATED
    said = " ".join(str(e.payload["text"]) for e in desk.audit(case.id) if e.kind is AuditKind.MESSAGE)
    assert "after fraud-detection's onset" in said


def test_when_no_service_is_named_the_model_finds_it_before_anyone_is_asked(
    make_desk: MakeDesk, model: ScriptedModel
) -> None:
    """Two chains of trouble: the rules would ask which; the model reads the thread, investigates and names the
    deploy, the check confirms it, and no question is asked."""

    def name_the_deploy(request: dict[str, Any]) -> Reply:
        changes = json.loads(last_tool_message(request)["result"].split("\n", 1)[1].rsplit("\n", 1)[0])
        deploy = next(c for c in changes["changes"] if c["kind"] == "deploy" and c["commit"] == "9f3c2ab")
        return call("name_culprit", {"service": "payment-gateway", "change_id": deploy["id"], "reason": "v2.5.0"})

    model.add(
        call("list_services", {}),
        call("get_error_rate", {"service": "payment-gateway", "minutes": 30, "step_seconds": 15}),
        call("list_changes", {"service": "payment-gateway", "minutes": 60}),
    )
    model.respond = name_the_deploy
    desk = desk_with(make_desk, model, "auto")
    desk.deploy("payment-gateway", "v2.5.0", "9f3c2ab")
    desk.wait(60)
    desk.fault("payment-gateway", 0.35)
    desk.wait(10)
    desk.fault("search", 0.3)
    desk.wait(110)
    case = desk.report("something is broken, customers are complaining")
    model.respond = None

    assert case.status is CaseStatus.AWAITING_APPROVAL
    assert case.finding is not None
    assert case.finding.culprit is not None
    assert case.finding.culprit.commit == "9f3c2ab"
    said = [str(e.payload.get("text")) for e in desk.audit(case.id) if e.kind is AuditKind.MESSAGE]
    assert not any(e.payload.get("choices") for e in desk.audit(case.id) if e.kind is AuditKind.MESSAGE), said
