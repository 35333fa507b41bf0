"""`actiondesk healthcheck`, the image's HEALTHCHECK: asks the server on ACTIONDESK_HOST/PORT, exit 0 or 1."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

from serverproc import ROOT, ServerProcess, server_env


def _check(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "actiondesk", "healthcheck", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_healthcheck_answers_for_the_server_on_this_machine(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'actiondesk.db'}"
    server = ServerProcess.start(server_env(database), ROOT)
    try:
        port = server.url.rsplit(":", 1)[1]
        env = server_env(database, ACTIONDESK_HOST="0.0.0.0", ACTIONDESK_PORT=port)  # as in the image
        alive = _check(env)
        assert alive.returncode == 0, alive.stderr
        assert alive.stdout.startswith('200 {"status": "ok"')
        ready = _check(env, "--path", "/readyz")
        assert ready.returncode == 0, ready.stderr
        assert '"status": "ready"' in ready.stdout
        missing = _check(env, "--path", "/nothing-here")
        assert missing.returncode == 1
    finally:
        server.stop()


def test_healthcheck_fails_when_nothing_listens(tmp_path: Path) -> None:
    env = server_env(f"sqlite:///{tmp_path / 'a.db'}", ACTIONDESK_PORT=str(_free_port()))
    done = _check(env, "--timeout", "2")
    assert done.returncode == 1
    assert "unhealthy" in done.stderr
