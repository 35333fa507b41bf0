"""The onboarding form in Slack: `/actiondesk onboard` opens a modal with the role catalog; a submission with bad
fields is answered, within the ack, with each error under its field (nothing opened); a good one closes the
modal and opens the request's case in a thread of the channel, whose status message is the checklist."""

from __future__ import annotations

import json
import urllib.parse

from slackfake import TEAM, post, signed

from actiondesk.core.case import CaseKind


def _submission(values: dict[str, dict[str, object]], view_id: str = "V-onb", user: str = "U0BOB") -> str:
    state = {
        block: {f"{block}_input": {"type": kind, **answer}}
        for block, (kind, answer) in values.items()  # type: ignore[misc]
    }
    payload = {
        "type": "view_submission",
        "team": {"id": TEAM, "domain": "acme"},
        "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": TEAM},
        "api_app_id": "A0ACTIONDESK",
        "token": "verification_token",
        "trigger_id": "T-onb-view",
        "view": {
            "id": view_id,
            "team_id": TEAM,
            "type": "modal",
            "callback_id": "onboard_form",
            "private_metadata": json.dumps({"channel": "C0OPS"}),
            "state": {"values": state},
            "hash": "h-onb",
        },
        "response_urls": [],
    }
    return urllib.parse.urlencode({"payload": json.dumps(payload)})


FORM = "application/x-www-form-urlencoded"
GOOD = {
    "name": ("plain_text_input", {"value": "Jane Doe"}),
    "role": ("static_select", {"selected_option": {"value": "data-analyst"}}),
    "start": ("datepicker", {"selected_date": "2030-01-07"}),
    "manager": ("users_select", {"selected_user": "U0BOB"}),
    "username": ("plain_text_input", {"value": None}),
    "email": ("email_text_input", {"value": None}),
}


async def test_the_command_opens_a_modal_with_the_role_catalog(desk):
    status, _, took = await desk.command("onboard", "U0ALICE", "T-onboard", hook="onb")
    assert status == 200
    assert took < 3
    (opened,) = await desk.fake.wait_for(lambda f: f.named("views.open"))
    view = opened.args["view"]
    assert opened.args["trigger_id"] == "T-onboard"
    assert view["callback_id"] == "onboard_form"
    role = next(b for b in view["blocks"] if b["block_id"] == "role")
    assert [o["value"] for o in role["element"]["options"]] == ["data-analyst", "sales-rep", "sre"]


async def test_bad_fields_come_back_under_each_field_and_nothing_opens(desk):
    bad = {
        **GOOD,
        "name": ("plain_text_input", {"value": "Jane"}),
        "start": ("datepicker", {"selected_date": "2001-01-01"}),
        "manager": ("users_select", {"selected_user": "U0NOBODY"}),
    }
    body = _submission(bad)
    status, text, took = await post(
        desk.session, desk.events_url, body, signed(body, content_type="application/x-www-form-urlencoded")
    )
    assert status == 200
    assert took < 3
    answer = json.loads(text)
    assert answer["response_action"] == "errors"
    assert set(answer["errors"]) == {"name", "start", "manager"}
    assert desk.runtime.store.list_cases() == []


async def test_a_good_form_opens_the_request_in_a_thread(desk):
    body = _submission(GOOD)
    status, text, _ = await post(
        desk.session, desk.events_url, body, signed(body, content_type="application/x-www-form-urlencoded")
    )
    assert status == 200
    assert text == ""  # the modal closes
    root = await desk.fake.wait_for(
        lambda f: [c for c in f.named("chat.postMessage") if "Onboarding request" in str(c.args.get("text"))]
    )
    assert root[0].args["channel"] == "C0OPS"

    def checklist(f):
        return [
            c
            for c in f.named("chat.postMessage") + f.named("chat.update")
            if "Identity · create_account jdoe" in str(c.args.get("blocks"))
        ]

    assert await desk.fake.wait_for(checklist)  # the status message is the request's checklist
    (case,) = desk.runtime.store.list_cases()
    assert case.kind is CaseKind.REQUEST
    assert case.reporter == "bob"
    assert case.plan is not None
    assert case.plan.runbook == "onboarding"
    assert case.thread["slack_channel"] == "C0OPS"
