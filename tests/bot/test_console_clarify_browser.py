"""The clarifying conversation in the console, in a real headless Chromium against `python -m actiondesk serve`:
"something is broken" on an estate with two unrelated chains of trouble → a question with the candidates as
buttons → a click on checkout → the finding names payment-gateway's deploy → bob approves → resolved.

The server starts in the world of a scenario file the tests write (``two_chains`` in conftest.py):
payment-gateway's bad deploy (its errors reach checkout, which calls it) and, at the same moment, errors on
search with no change before them. Nothing in "something is broken" names a service, so triage asks.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
from serverproc import ServerProcess, server_env, signed_in, wait_for

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.browser

UI_TIMEOUT_MS = 30_000
RESOLVE_TIMEOUT_MS = 90_000


@pytest.fixture(scope="module")
def server(browser: Browser, tmp_path_factory: pytest.TempPathFactory, two_chains: Path) -> Iterator[ServerProcess]:
    workdir = tmp_path_factory.mktemp("clarify")
    env = server_env(f"sqlite:///{workdir / 'a.db'}", ACTIONDESK_SANDBOX_SCENARIO=str(two_chains))
    started = ServerProcess.start(env, cwd=workdir)
    started.url = started.url.rstrip("/")
    yield started
    started.stop()


def test_an_ambiguous_report_is_asked_about_and_the_clicked_answer_leads_to_the_fix(
    page: Page, server: ServerProcess, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    page.goto(server.url + "/")
    user = page.get_by_test_id("user-select")
    expect(user).to_have_value("alice", timeout=UI_TIMEOUT_MS)
    page.get_by_test_id("chat-input").fill("something is broken")
    page.get_by_test_id("chat-send").click()

    # The question, with one button per chain of trouble; the case waits for the answer, not for a person.
    question = page.get_by_test_id("question")
    expect(question).to_have_attribute("data-open", "true", timeout=UI_TIMEOUT_MS)
    buttons = question.get_by_test_id("choice-button")
    expect(buttons).to_have_text(["checkout", "search"])
    expect(page.get_by_test_id("message").filter(has_text="Which one are you seeing?")).to_have_count(1)
    status = page.get_by_test_id("case-status")
    expect(status).to_have_attribute("data-status", "awaiting_reply")
    expect(status).to_have_text("awaiting reply")
    expect(page.get_by_test_id("waiting")).to_contain_text("Waiting for an answer until")
    expect(page.get_by_test_id("finding")).to_have_attribute("data-abstained", "true")
    page.screenshot(path=str(tmp_path / "console-question.png"))

    question.locator("[data-choice='checkout']").click()

    # alice's click is her reply; the buttons give way to who answered what; triage resumes from it.
    expect(question).to_have_attribute("data-open", "false", timeout=UI_TIMEOUT_MS)
    expect(question.get_by_test_id("choice-button")).to_have_count(0)
    expect(question.get_by_test_id("question-outcome")).to_have_text("Answered by alice: checkout")
    mine = page.locator("[data-testid='message'][data-actor='alice']")
    expect(mine.last.get_by_test_id("message-text")).to_have_text("checkout")

    finding = page.get_by_test_id("finding")
    expect(finding.get_by_test_id("culprit-commit")).to_have_text("9f3c2ab", timeout=UI_TIMEOUT_MS)
    expect(finding).to_contain_text("checkout's 5xx rate followed payment-gateway's")
    card = page.get_by_test_id("approval-card")
    expect(card).to_have_attribute("data-status", "pending", timeout=UI_TIMEOUT_MS)
    expect(card.get_by_test_id("approval-action")).to_have_text("rollback_deployment")
    expect(card.get_by_test_id("approval-target")).to_have_text("payment-gateway")

    user.select_option("bob")
    card.get_by_test_id("approve-button").click()
    expect(card).to_have_attribute("data-status", "approved", timeout=UI_TIMEOUT_MS)
    expect(status).to_have_attribute("data-status", "resolved", timeout=RESOLVE_TIMEOUT_MS)
    expect(page.get_by_test_id("message").filter(has_text="Verified")).to_have_count(1)

    # A reply that adds nothing still gets an answer.
    page.get_by_test_id("chat-input").fill("thanks!")
    page.get_by_test_id("chat-send").click()
    answer = page.locator("[data-testid='message'][data-role='agent']").filter(has_text="This case is resolved")
    expect(answer).to_have_count(1, timeout=UI_TIMEOUT_MS)
    expect(status).to_have_attribute("data-status", "resolved")
    page.screenshot(path=str(tmp_path / "console-clarified.png"))


def test_the_answers_api_refuses_what_the_question_did_not_offer(server: ServerProcess) -> None:
    """The same checks for a request made without the page: a forged choice, a second answer, a bad body. Who
    answers is the signed-in person, never a name in the body."""
    with signed_in(server.url, "dave") as dave, signed_in(server.url, "frank") as frank:
        opened = dave.post("/api/cases", json={"text": "something is broken"}).json()
        answers = f"/api/cases/{opened['id']}/answers"
        wait_for(lambda: dave.get(f"/api/cases/{opened['id']}").json()["status"] == "awaiting_reply", "the question")
        (question,) = dave.get(f"/api/cases/{opened['id']}").json()["questions"]

        forged = dave.post(answers, json={"choice": "orders-db", "question": question["seq"]})
        assert forged.status_code == 409
        assert "'orders-db' is not one of the answers offered (checkout, search)" in forged.json()["error"]
        assert dave.post(answers, json={"choice": "search", "user": "bob"}).status_code == 400  # no names in bodies
        assert dave.post("/api/cases/C-nope/answers", json={"choice": "search"}).status_code == 404
        with httpx.Client(base_url=server.url, timeout=10) as anonymous:
            assert anonymous.post(answers, json={"choice": "search"}).status_code == 401

        taken = frank.post(answers, json={"choice": "search", "question": question["seq"]})
        assert taken.status_code == 200  # frank (sales) may answer: answering is not approving
        again = dave.post(answers, json={"choice": "checkout", "question": question["seq"]})
        assert again.status_code == 409
        assert "not waiting for an answer any more" in again.json()["error"]
        detail = dave.get(f"/api/cases/{opened['id']}").json()
        said = [(e["actor"], e["payload"]["text"]) for e in detail["timeline"] if e["kind"] == "message"]
        assert ("frank", "search") in said
        assert ("dave", "checkout") not in said
