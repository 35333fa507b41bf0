"""`serve` logs the doctor's report at start and serves all the same, even with a configured system down."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
from serverproc import ServerProcess, server_env, wait_for


def test_serve_logs_an_unusable_prometheus_and_still_serves(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed when the block ends: nothing listens there
    env = server_env(
        f"sqlite:///{tmp_path / 'a.db'}",
        ACTIONDESK_PROMETHEUS_URL=f"http://127.0.0.1:{port}",
        ACTIONDESK_CHANGES_TOKEN="a-token-0123456789abcdef",
    )
    server = ServerProcess.start(env, cwd=tmp_path)
    try:
        line = wait_for(
            lambda: next((x for x in server.output if "doctor: Prometheus" in x), None), "the doctor's Prometheus line"
        )
        assert "unusable" in str(line)
        assert "unreachable" in str(line)
        changes = wait_for(lambda: next((x for x in server.output if "doctor: Change events" in x), None), "changes")
        assert "POST /api/changes on" in str(changes)
        assert "a-token-0123456789abcdef" not in "".join(server.output)
        assert httpx.get(f"{server.url}/healthz", timeout=10).status_code == 200
    finally:
        server.stop()
