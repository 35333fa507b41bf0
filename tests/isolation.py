"""Test isolation: the environment every test starts from, and the loopback-only socket guard (the autouse
fixtures of tests/conftest.py use these)."""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterator

import pytest

# The environment a test starts from: the settings families below are cleared; what .ci/run exports to make
# tests mandatory (ACTIONDESK_REQUIRE_*) or to point them at test infrastructure (ACTIONDESK_TEST_*) is kept,
# and so is where the browser tests write their screenshots.
CLEARED_PREFIXES = (
    "ACTIONDESK_",
    "OPENAI_",
    "SERVICENOW_",
    "SNOW_",
    "JSM_",
    "JIRA_",
    "SLACK_",
    "TEAMS_",
    "MICROSOFT_APP_",
)
KEPT_PREFIXES = ("ACTIONDESK_REQUIRE_", "ACTIONDESK_TEST_")
KEPT = {"ACTIONDESK_SCREENSHOTS_DIR"}


def _settings_variables() -> set[str]:
    """Every variable Settings reads: ACTIONDESK_<FIELD> and each alias (DATABASE_URL, SLACK_BOT_TOKEN, ...)."""
    from pydantic import AliasChoices

    from actiondesk.core.settings import Settings

    names: set[str] = set()
    for name, field in Settings.model_fields.items():
        names.add(f"ACTIONDESK_{name.upper()}")
        alias = field.validation_alias
        choices = alias.choices if isinstance(alias, AliasChoices) else [alias] if alias else []
        names.update(str(c).upper() for c in choices if isinstance(c, str))
    return names


SETTINGS_VARIABLES = _settings_variables()


def cleared(name: str) -> bool:
    if name in KEPT or name.startswith(KEPT_PREFIXES):
        return False
    return name.upper() in SETTINGS_VARIABLES or name.upper().startswith(CLEARED_PREFIXES)


def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in os.environ if cleared(n)]:
        monkeypatch.delenv(name)


def _local(host: object) -> bool:
    """Loopback (127.0.0.0/8, ::1, localhost), the unspecified address (a server binding), or not an address."""
    if host is None or host in ("", "localhost", "localhost.localdomain"):
        return True
    if isinstance(host, bytes):
        host = host.decode()
    if not isinstance(host, str):
        return True
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return host.endswith(".localhost")
    mapped = getattr(address, "ipv4_mapped", None)
    address = mapped or address
    return address.is_loopback or address.is_unspecified


class OutboundConnectionError(ConnectionRefusedError):
    """What a test that reaches beyond loopback gets (and the test then fails)."""


def guard(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Outbound connections other than loopback fail the test: socket.connect/connect_ex and getaddrinfo refuse
    them (so nothing leaves the machine) and the attempt is reported when the test ends, even if the code under
    test caught the error. Unix sockets and other families pass; servers started as subprocesses are not
    affected."""
    attempts: list[str] = []
    real_connect, real_connect_ex, real_getaddrinfo = (
        socket.socket.connect,
        socket.socket.connect_ex,
        socket.getaddrinfo,
    )

    def refuse(what: str) -> OutboundConnectionError:
        attempts.append(what)
        return OutboundConnectionError(f"tests may only connect to loopback: {what}")

    def check(sock: socket.socket, address: object) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and isinstance(address, tuple) and not _local(address[0]):
            raise refuse(f"connect to {address[0]}:{address[1]}")

    def connect(self: socket.socket, address: object) -> None:
        check(self, address)
        return real_connect(self, address)

    def connect_ex(self: socket.socket, address: object) -> int:
        check(self, address)
        return real_connect_ex(self, address)

    def getaddrinfo(host: object, *args: object, **kwargs: object) -> list:
        if not _local(host):
            raise refuse(f"name lookup of {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield attempts  # the guard's own test reads (and clears) it
    if attempts:
        pytest.fail("the test reached beyond loopback: " + "; ".join(sorted(set(attempts))), pytrace=False)
