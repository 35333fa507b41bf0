"""`actiondesk serve` with Teams configured but without MICROSOFT_APP_ID says loudly that Teams runs in local
development mode (and says nothing about Teams when nothing of Teams is configured); with a bad Teams endpoint it
refuses to start."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ACTIONDESK_", "MICROSOFT_", "SLACK_"))}
    env.update({"DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}", **extra})
    return env


def test_serve_announces_teams_development_mode(tmp_path):
    process = subprocess.Popen(
        [sys.executable, "-m", "actiondesk", "serve", "--host", "127.0.0.1", "--port", "0"],
        cwd=tmp_path,
        env=_env(tmp_path, ACTIONDESK_TEAMS_NOTIFY_CHANNEL="19:ops@thread.tacv2"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    seen: list[str] = []
    watchdog = threading.Timer(60, process.kill)  # a server that never prints the banner fails, not hangs
    watchdog.start()
    try:
        assert process.stdout is not None
        for line in process.stdout:  # ends when the server exits; the banner comes right after "serving on"
            seen.append(line)
            if "LOCAL DEVELOPMENT MODE" in line and line.startswith("WARNING"):
                break
    finally:
        watchdog.cancel()
        process.terminate()
        process.wait(timeout=30)
    assert any("ActionDesk serving on" in line for line in seen), "".join(seen)
    assert "LOCAL DEVELOPMENT MODE" in seen[-1]


def test_serve_without_teams_settings_says_nothing_about_teams(tmp_path):
    process = subprocess.Popen(
        [sys.executable, "-m", "actiondesk", "serve", "--host", "127.0.0.1", "--port", "0"],
        cwd=tmp_path,
        env=_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    seen: list[str] = []
    watchdog = threading.Timer(60, process.kill)
    watchdog.start()
    try:
        assert process.stdout is not None
        for line in process.stdout:
            seen.append(line)
            if "ActionDesk serving on" in line:
                break
        time.sleep(3)  # the warning, when there is one, follows "serving on" at once
    finally:
        watchdog.cancel()
        process.terminate()
        rest, _ = process.communicate(timeout=30)
    output = "".join(seen) + rest
    assert "ActionDesk serving on" in output
    assert "LOCAL DEVELOPMENT MODE" not in output
    assert "Running job" not in output  # the scheduler's routine lines are DEBUG


def test_serve_refuses_a_plain_http_token_endpoint(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "actiondesk", "serve", "--port", "0"],
        cwd=tmp_path,
        env=_env(
            tmp_path,
            MICROSOFT_APP_ID="11111111-2222-3333-4444-555555555555",
            MICROSOFT_APP_PASSWORD="secret-value-xyz",
            ACTIONDESK_TEAMS_OAUTH_URL="http://login.example.com/token",
        ),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "ACTIONDESK_TEAMS_OAUTH_URL" in result.stderr
    assert "secret-value-xyz" not in result.stdout + result.stderr
