"""Crash safety: SIGKILL the server after an approval is recorded and before its action runs; the restarted
server resumes the case and the action runs exactly once."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from serverproc import ROOT, ServerProcess, server_env, signed_in, wait_for
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

pytestmark = pytest.mark.postgres


def _case(url: str, case_id: str) -> dict:
    return signed_in(url, "alice").get(f"/api/cases/{case_id}").json()


def test_sigkill_between_approval_and_action_runs_it_exactly_once(postgres_url: str, tmp_path):
    env = server_env(postgres_url, ACTIONDESK_LEASE_SECONDS="2")
    server = ServerProcess.start(env, ROOT)
    db = create_engine(postgres_url, poolclass=NullPool)
    blocker = db.connect()
    try:
        opened = (
            signed_in(server.url, "alice")
            .post("/api/cases", json={"text": "the payment gateway is throwing 500s"})
            .json()
        )
        case_id = opened["id"]
        detail = wait_for(
            lambda: (d := _case(server.url, case_id))["status"] == "awaiting_approval" and d, "the approval request"
        )
        approval_id = detail["approvals"][0]["id"]
        # Hold the action-run table so the server cannot claim the run: the approval is recorded, the action is not.
        blocker.execute(text("BEGIN"))
        blocker.execute(text("LOCK TABLE action_runs IN EXCLUSIVE MODE"))
        answer = signed_in(server.url, "bob").post(f"/api/approvals/{approval_id}", json={"decision": "approve"})
        assert answer.status_code == 200, answer.text

        def blocked() -> int:  # a fresh transaction per look: pg_stat_activity is a per-transaction snapshot
            with db.connect() as conn:
                return conn.execute(
                    text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND state = 'active'")
                ).scalar()

        wait_for(blocked, "the server to block on claiming the run")
        with db.connect() as conn:
            status = conn.execute(text("SELECT status FROM approvals WHERE id = :id"), {"id": approval_id}).scalar()
        assert status == "approved"
        server.kill()  # SIGKILL: no cleanup, no flush
        blocker.execute(text("ROLLBACK"))
        with db.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM action_runs")).scalar() == 0

        server = ServerProcess.start(env, ROOT)  # the restarted server resumes the case on its own
        final = wait_for(
            lambda: (d := _case(server.url, case_id))["status"] in ("resolved", "escalated", "failed") and d,
            "the resumed case to finish",
        )
        assert final["status"] == "resolved", final["timeline"][-3:]
        kinds = [e["kind"] for e in final["timeline"]]
        assert kinds.count("action_started") == 1
        assert kinds.count("action_result") == 1
        with db.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM action_runs")).scalar() == 1
            estate = json.loads(conn.execute(text("SELECT text FROM state_blobs")).scalar())
        rollbacks = [d for d in estate["deployments"] if d["kind"] == "rollback"]
        assert len(rollbacks) == 1, rollbacks
        server.stop()
        verify = subprocess.run(
            [sys.executable, "-m", "actiondesk", "audit", "verify"], env=env, cwd=ROOT, capture_output=True, text=True
        )
        assert verify.returncode == 0, verify.stderr
    finally:
        blocker.close()
        db.dispose()
        server.kill()
