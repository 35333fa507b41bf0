"""Start the `oidc-provider` package (tests/bot/auth/oidc_provider.mjs) under Node on loopback, port 0.

`.ci/run` installs it into `.oidc-provider/` (git-ignored). Without Node or the package the sign-in tests are
skipped, unless ACTIONDESK_REQUIRE_OIDC=1 (CI), which fails them instead.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
ENTRY = ROOT / ".oidc-provider" / "node_modules" / "oidc-provider" / "lib" / "index.js"
SCRIPT = Path(__file__).with_name("oidc_provider.mjs")
CLIENT_ID = "actiondesk-tests"
CLIENT_SECRET = "not-a-real-secret-tests-only"
START_TIMEOUT_SECONDS = 30.0


def problem() -> str | None:
    if shutil.which("node") is None:
        return "node is not installed"
    if not ENTRY.exists():
        return f"{ENTRY} is missing (.ci/run installs oidc-provider with npm)"
    return None


def require() -> None:
    found = problem()
    if found is not None:
        if os.environ.get("ACTIONDESK_REQUIRE_OIDC") == "1":
            pytest.fail(f"the OpenID Connect tests are required here, but {found}")
        pytest.skip(found)


@dataclass
class OidcProvider:
    process: subprocess.Popen[str]
    issuer: str = ""
    output: list[str] = field(default_factory=list)
    _lines: list[str] = field(default_factory=list)
    _changed: threading.Condition = field(default_factory=threading.Condition)

    @classmethod
    def start(cls) -> OidcProvider:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "OIDC_PROVIDER_ENTRY": ENTRY.as_uri(),
            "OIDC_CLIENT_ID": CLIENT_ID,
            "OIDC_CLIENT_SECRET": CLIENT_SECRET,
        }
        process = subprocess.Popen(
            ["node", str(SCRIPT)],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        provider = cls(process)
        threading.Thread(target=provider._pump, daemon=True).start()
        line = provider._await(lambda text: text.startswith("issuer "), "the provider's issuer line")
        provider.issuer = line.split(" ", 1)[1].strip()
        return provider

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._changed:
                self.output.append(line)
                self._lines.append(line.strip())
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    def _await(self, match, what: str) -> str:  # type: ignore[no-untyped-def]
        with self._changed:
            found = self._changed.wait_for(
                lambda: any(match(x) for x in self._lines) or self.process.poll() is not None, START_TIMEOUT_SECONDS
            )
            hits = [x for x in self._lines if match(x)]
        if not found or not hits:
            self.stop()
            raise RuntimeError(f"no {what}:\n" + "".join(self.output))
        return hits[0]

    def register(self, redirect_uri: str) -> None:
        """Tell the provider the relying party's redirect URI; returns once it serves."""
        assert self.process.stdin is not None
        self.process.stdin.write(redirect_uri + "\n")
        self.process.stdin.flush()
        self._await(lambda text: text == "ready", "ready line from the provider")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
