"""Start `actiondesk serve` as a real subprocess on port 0 and wait for the line that says where it listens."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from playwright.sync_api import Page

READY = re.compile(r"ActionDesk serving on (http://[^\s\"]+)")  # a text line, or a JSON log line's message
START_TIMEOUT_SECONDS = 60.0
ROOT = Path(__file__).resolve().parents[2]


def server_env(database_url: str, **extra: str) -> dict[str, str]:
    """A clean environment: nothing of the developer's ACTIONDESK_*, OTEL_* or .env leaks in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ACTIONDESK_", "OTEL_")) and k != "DATABASE_URL"}
    env.update({"DATABASE_URL": database_url, "ACTIONDESK_VERIFY_INTERVAL_SECONDS": "0.2", **extra})
    return env


@dataclass
class ServerProcess:
    process: subprocess.Popen[str]
    url: str = ""
    output: list[str] = field(default_factory=list)

    @classmethod
    def start(cls, env: dict[str, str], cwd: Path, host: str = "127.0.0.1") -> ServerProcess:
        process = subprocess.Popen(
            [sys.executable, "-m", "actiondesk", "serve", "--host", host, "--port", "0"],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        server = cls(process)
        ready = threading.Event()

        def pump() -> None:  # drain the pipe for the server's whole life so it never blocks on a full pipe
            assert process.stdout is not None
            for line in process.stdout:
                server.output.append(line)
                match = READY.search(line)
                if match and not ready.is_set():
                    server.url = match.group(1)
                    ready.set()
            ready.set()

        threading.Thread(target=pump, daemon=True).start()
        if not ready.wait(START_TIMEOUT_SECONDS) or not server.url:
            server.kill()
            raise RuntimeError("server did not start:\n" + "".join(server.output))
        return server

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


def wait_for(probe: Callable[[], object], what: str, timeout: float = 30.0) -> object:
    """Poll ``probe`` until it returns something truthy; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.05)  # polling a condition, not waiting for time to pass
    raise AssertionError(f"timed out waiting for {what}")


def signed_in(url: str, person: str) -> httpx.Client:
    """A client of the loopback demo signed in as ``person``: its session cookie, and the console's own Origin
    (the guard refuses cookie-authenticated writes from any other). The cookie is sent by hand: it is Secure,
    and httpx's jar keeps Secure cookies for https only."""
    answer = httpx.post(f"{url}/auth/demo", json={"person": person}, headers={"Origin": url}, timeout=10)
    answer.raise_for_status()
    cookie = answer.headers["set-cookie"].split(";", 1)[0]
    return httpx.Client(base_url=url, headers={"Cookie": cookie, "Origin": url}, timeout=10)


def keep_screenshot(page: Page, name: str, *, full_page: bool = False) -> Path | None:
    """Also write the page's screenshot into ACTIONDESK_SCREENSHOTS_DIR when it is set (the README's pictures:
    `ACTIONDESK_SCREENSHOTS_DIR=docs .venv/bin/pytest -m browser`)."""
    folder = os.environ.get("ACTIONDESK_SCREENSHOTS_DIR")
    if not folder:
        return None
    path = Path(folder) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=full_page)
    return path
