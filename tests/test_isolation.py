"""Every test starts from a clean environment and cannot reach beyond loopback (tests/conftest.py)."""

from __future__ import annotations

import asyncio
import os
import socket
import threading

import httpx
import pytest
from isolation import OutboundConnectionError, clean_environment, cleared


def test_the_settings_families_are_cleared_and_the_ci_switches_kept():
    for name in ("OPENAI_API_KEY", "ACTIONDESK_OPENAI_API_KEY", "DATABASE_URL", "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN"):
        assert cleared(name), name
    for name in ("SERVICENOW_INSTANCE_URL", "JSM_API_TOKEN", "MICROSOFT_APP_PASSWORD", "ACTIONDESK_LOG_LEVEL"):
        assert cleared(name), name
    for name in ("ACTIONDESK_REQUIRE_POSTGRES", "ACTIONDESK_TEST_POSTGRES_URL", "ACTIONDESK_SCREENSHOTS_DIR", "PATH"):
        assert not cleared(name), name
    assert not [n for n in os.environ if cleared(n)]


def test_a_variable_a_developer_exported_does_not_reach_a_test(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-developer-key")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-developer")
    monkeypatch.setenv("ACTIONDESK_REQUIRE_POSTGRES", "1")
    clean_environment(monkeypatch)  # what the autouse fixture does before every test
    assert "OPENAI_API_KEY" not in os.environ
    assert "SLACK_BOT_TOKEN" not in os.environ
    assert os.environ["ACTIONDESK_REQUIRE_POSTGRES"] == "1"


def test_a_connection_beyond_loopback_is_refused_and_reported(loopback_only):
    with socket.socket() as raw, pytest.raises(OutboundConnectionError):
        raw.connect(("192.0.2.10", 80))
    with socket.socket(socket.AF_INET6) as raw, pytest.raises(OutboundConnectionError):
        raw.connect_ex(("2001:db8::1", 80))
    with pytest.raises(OutboundConnectionError):
        socket.getaddrinfo("example.org", 443)
    with pytest.raises(httpx.ConnectError):
        httpx.get("http://203.0.113.5:8080/", timeout=1)
    failed: list[BaseException] = []

    def from_a_thread() -> None:
        try:
            socket.create_connection(("198.51.100.1", 443), timeout=1)
        except OSError as exc:
            failed.append(exc)

    worker = threading.Thread(target=from_a_thread)
    worker.start()
    worker.join()
    assert isinstance(failed[0], OutboundConnectionError)
    assert sorted(loopback_only) == [
        "connect to 192.0.2.10:80",
        "connect to 2001:db8::1:80",
        "name lookup of '198.51.100.1'",
        "name lookup of '203.0.113.5'",
        "name lookup of 'example.org'",
    ]
    loopback_only.clear()  # seen: the guard would otherwise fail this test at teardown, as it fails any other


async def test_loopback_and_unix_sockets_pass(tmp_path):
    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(await reader.readline())
        await writer.drain()
        writer.close()

    for host in ("127.0.0.1", "localhost"):
        server = await asyncio.start_server(echo, host, 0)
        port = server.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(b"hello\n")
        assert await reader.readline() == b"hello\n"
        writer.close()
        server.close()
        await server.wait_closed()
    path = str(tmp_path / "s")
    server = await asyncio.start_unix_server(echo, path)
    reader, writer = await asyncio.open_unix_connection(path)
    writer.write(b"unix\n")
    assert await reader.readline() == b"unix\n"
    writer.close()
    server.close()
