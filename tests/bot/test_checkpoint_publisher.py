"""`serve` publishes signed checkpoints of the audit chain head; `audit verify` checks the chain against them."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from serverproc import ServerProcess, server_env, signed_in

from actiondesk.adapters.store import SqlStore, make_engine
from actiondesk.bot.jobs.checkpoints import Publisher, generate_key, load_private, load_public, read_checkpoints
from actiondesk.core.audit import AuditDraft, AuditKind
from actiondesk.core.clock import SystemClock


def _append(store: SqlStore, n: int) -> None:
    with store.transaction() as uow:
        for i in range(n):
            uow.append_audit(
                AuditDraft(kind=AuditKind.MESSAGE, case_id=None, actor="t", at=SystemClock().now(), payload={"i": i})
            )


def test_the_publisher_signs_each_new_head_once(store: SqlStore, tmp_path: Path):
    key, published = tmp_path / "k.pem", tmp_path / "checkpoints.jsonl"
    generate_key(key)
    publisher = Publisher(store, load_private(key), published, SystemClock())
    assert publisher.publish_once() is None  # an empty chain has nothing to sign
    _append(store, 3)
    assert publisher.publish_once().seq == 3
    assert publisher.publish_once() is None  # unchanged head: no duplicate line
    _append(store, 2)
    assert publisher.publish_once().seq == 5
    checkpoints = read_checkpoints(published, load_public(Path(f"{key}.pub")))
    assert sorted(checkpoints) == [3, 5]
    assert store.verify_audit(checkpoints).ok


def _signing(tmp_path: Path, minutes: str) -> tuple[dict[str, str], Path]:
    """A server environment with a fresh signing key and its checkpoint file, published every ``minutes``."""
    key, published = tmp_path / "audit.key", tmp_path / "checkpoints.jsonl"
    generate_key(key)
    env = server_env(
        f"sqlite:///{tmp_path / 'a.db'}",
        ACTIONDESK_AUDIT_SIGNING_KEY=str(key),
        ACTIONDESK_AUDIT_CHECKPOINT_FILE=str(published),
        ACTIONDESK_AUDIT_CHECKPOINT_MINUTES=minutes,
    )
    return env, published


def test_serve_publishes_checkpoints_that_audit_verify_accepts(tmp_path: Path):
    env, published = _signing(tmp_path, minutes="0.01")
    server = ServerProcess.start(env, tmp_path)
    try:
        signed_in(server.url, "alice").post("/api/cases", json={"text": "search is returning errors"})
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # polling a file the server appends to
            lines = published.read_text().splitlines() if published.exists() else []
            if lines and json.loads(lines[-1])["seq"] >= 6:  # opened, message, probe, finding, reply, escalated
                break
            time.sleep(0.1)
        else:
            raise AssertionError(f"no checkpoint of the escalated case was published: {lines}")
    finally:
        server.stop()
    verify = subprocess.run(
        [sys.executable, "-m", "actiondesk", "audit", "verify"], env=env, cwd=tmp_path, capture_output=True, text=True
    )
    assert verify.returncode == 0, verify.stderr
    assert "signed checkpoints matched" in verify.stdout


def test_a_graceful_shutdown_publishes_the_last_head_and_verify_counts_what_came_after(tmp_path: Path):
    """Defect: checkpoints came only every ACTIONDESK_AUDIT_CHECKPOINT_MINUTES, so a stop left the newest entries
    unsigned, and `audit verify` did not say that entries after the last checkpoint cannot be proven."""
    env, published = _signing(tmp_path, minutes="600")
    server = ServerProcess.start(env, tmp_path)
    try:
        signed_in(server.url, "alice").post("/api/cases", json={"text": "search is returning errors"})
    finally:
        server.stop()  # SIGTERM: a graceful stop
    assert server.process.returncode == 0
    store = SqlStore(make_engine(f"sqlite:///{tmp_path / 'a.db'}"))
    head, _ = store.audit_head()
    lines = published.read_text().splitlines()
    assert json.loads(lines[-1])["seq"] == head  # the stop signed the head as it was

    _append(store, 2)  # written after the last checkpoint: the chain still verifies, but they are unsigned
    verify = subprocess.run(
        [sys.executable, "-m", "actiondesk", "audit", "verify"], env=env, cwd=tmp_path, capture_output=True, text=True
    )
    assert verify.returncode == 0, verify.stderr
    assert f"2 entries after the last signed checkpoint (entry {head})" in verify.stdout
