"""TESTPLAN B11: the JWT matrix against the running server. Every bad token gets 401/403 and the bot makes
no outbound call at all — neither to the activity's serviceUrl nor to a serviceUrl the body names."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from fixturefiles import sources
from pydantic import SecretStr
from teams_fakes import ISSUER, Connector, Desk, Key, TokenService, mention, replay, settings_for, spoken, start_desk

from actiondesk.bot.teams.config import TeamsConfig, banner
from actiondesk.core.errors import ConfigurationError


@dataclass
class World:
    desk: Desk
    tokens: TokenService
    connector: Connector
    elsewhere: Connector
    http: httpx.AsyncClient

    async def post(self, body: dict[str, Any], authorization: str | None) -> httpx.Response:
        headers = {"Authorization": authorization} if authorization is not None else {}
        return await self.http.post(f"{self.desk.url}/api/messages", json=body, headers=headers)


@pytest.fixture
async def world(tmp_path) -> AsyncIterator[World]:
    tokens, connector, elsewhere = TokenService(), Connector(), Connector()
    await tokens.start_service()
    await connector.start_connector()
    await elsewhere.start_connector()
    desk = await start_desk(settings_for(tmp_path, tokens))
    async with httpx.AsyncClient(timeout=30) as http:
        yield World(desk, tokens, connector, elsewhere, http)
    await desk.runner.cleanup()
    for server in (elsewhere, connector, tokens):
        await server.stop()


def _none_alg(claims: dict[str, Any]) -> str:
    return jwt.encode(claims, None, algorithm="none", headers={"kid": "test-key-1"})


def _hs256_with_public_key(tokens: TokenService, claims: dict[str, Any]) -> str:
    """The key-confusion attack: HMAC-sign with the RSA public key's PEM as the shared secret."""
    pem = tokens.key.private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )

    def part(obj: dict[str, Any]) -> bytes:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=")

    signing_input = part({"alg": "HS256", "typ": "JWT", "kid": "test-key-1"}) + b"." + part(claims)
    signature = base64.urlsafe_b64encode(hmac.new(pem, signing_input, hashlib.sha256).digest()).rstrip(b"=")
    return (signing_input + b"." + signature).decode()


def _claims(service_url: str, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": "11111111-2222-3333-4444-555555555555", "serviceurl": service_url, "exp": now + 600}
    claims.update(changes)
    return claims


BAD = {
    "missing": lambda w, url: None,
    "not-bearer": lambda w, url: "Basic " + w.tokens.mint(url),
    "garbage": lambda w, url: "Bearer not.a.jwt",
    "wrong-iss": lambda w, url: "Bearer " + w.tokens.mint(url, iss="https://sts.windows.net/evil/"),
    "wrong-aud": lambda w, url: "Bearer " + w.tokens.mint(url, aud="someone-elses-bot"),
    "no-aud": lambda w, url: "Bearer " + w.tokens.mint(url, aud=None),
    "expired-beyond-skew": lambda w, url: "Bearer " + w.tokens.mint(url, exp=int(time.time()) - 6 * 60),
    "unknown-kid": lambda w, url: "Bearer " + w.tokens.mint(url, key=Key(kid="rotated-away")),
    "known-kid-wrong-key": lambda w, url: "Bearer " + w.tokens.mint(url, key=Key(kid="test-key-1")),
    "alg-none": lambda w, url: "Bearer " + _none_alg(_claims(url)),
    "hs256-confusion": lambda w, url: "Bearer " + _hs256_with_public_key(w.tokens, _claims(url)),
}


@pytest.mark.parametrize("case", list(BAD))
async def test_a_bad_token_is_refused_and_nothing_goes_out(world, case):
    body = mention(world.connector.url, "payment gateway is throwing 500s")
    response = await world.post(body, BAD[case](world, world.connector.url))
    assert response.status_code in (401, 403), response.text
    assert world.connector.calls == []
    assert world.desk.runtime.store.list_cases(None, 5) == []


async def test_a_service_url_claim_that_differs_from_the_activity_is_refused(world):
    body = mention(world.elsewhere.url, "payment gateway is throwing 500s")
    token = world.tokens.mint(world.connector.url)  # a genuine token, issued for another serviceUrl
    response = await world.post(body, f"Bearer {token}")
    assert response.status_code == 403
    assert world.elsewhere.calls == []
    assert world.connector.calls == []
    assert world.desk.runtime.store.list_cases(None, 5) == []


async def test_a_valid_token_is_accepted_and_the_reply_carries_the_bots_own_token(world):
    body = mention(world.connector.url, "payment gateway is throwing 500s")
    response = await world.post(body, "Bearer " + world.tokens.mint(world.connector.url))
    assert response.status_code == 201
    sent = await world.connector.wait_for(lambda calls: [c for c in calls if c.method == "POST"])
    assert sent[0].authorization == "Bearer bot-outbound-token-0001"
    token_calls = [c for c in world.tokens.calls if c.path == "/token"]
    assert token_calls[0].body["grant_type"] == "client_credentials"
    assert token_calls[0].body["scope"] == "https://api.botframework.com/.default"


@pytest.mark.parametrize("path", sources("teams/channel_mention.json", "teams/vercel-chat-replay/channel__teams.json"))
async def test_a_recorded_teams_mention_is_accepted(world, path):
    recorded = replay(path, "mention")
    body = {**recorded, "serviceUrl": world.connector.url + "/"}
    body["recipient"] = {"id": "28:11111111-2222-3333-4444-555555555555", "name": recorded["recipient"]["name"]}
    body["entities"] = [
        e if e.get("type") != "mention" else {**e, "mentioned": body["recipient"]} for e in recorded.get("entities", [])
    ]
    response = await world.post(body, "Bearer " + world.tokens.mint(body["serviceUrl"]))
    assert response.status_code == 201
    case = world.desk.runtime.store.list_cases(None, 5)[0]
    assert case.text == spoken(recorded)
    assert case.reporter.startswith("teams:")  # an unmapped user can report
    sent = await world.connector.wait_for(lambda calls: [c for c in calls if c.method == "POST"])
    channel = recorded["channelData"]["teamsChannelId"]
    assert channel.startswith("19:")
    assert sent[0].path.startswith(f"/v3/conversations/{channel}")


async def test_bad_content_is_a_client_error_not_a_crash(world):
    token = "Bearer " + world.tokens.mint(world.connector.url)
    plain = await world.http.post(f"{world.desk.url}/api/messages", content=b"hi", headers={"Authorization": token})
    assert plain.status_code == 415
    broken = await world.http.post(
        f"{world.desk.url}/api/messages",
        content=b"{not json",
        headers={"Authorization": token, "Content-Type": "application/json"},
    )
    assert broken.status_code == 400
    assert world.connector.calls == []


def test_plain_http_endpoints_are_refused_unless_loopback(tmp_path):
    settings = settings_for(
        tmp_path,
        None,
        microsoft_app_id="x",
        microsoft_app_password=SecretStr("s"),
        teams_oauth_url="http://login.example.com/token",
    )
    with pytest.raises(ConfigurationError, match="ACTIONDESK_TEAMS_OAUTH_URL"):
        TeamsConfig.from_settings(settings)
    settings = settings_for(tmp_path, None, teams_openid_metadata_url="http://10.0.0.8/openid")
    with pytest.raises(ConfigurationError, match="ACTIONDESK_TEAMS_OPENID_METADATA_URL"):
        TeamsConfig.from_settings(settings)
    loopback = settings_for(tmp_path, None, teams_openid_metadata_url="http://127.0.0.1:9/openid")
    assert TeamsConfig.from_settings(loopback).openid_metadata_url == "http://127.0.0.1:9/openid"


def test_an_empty_app_id_is_announced_as_development_mode_when_teams_is_configured(tmp_path):
    config = TeamsConfig.from_settings(settings_for(tmp_path, None, teams_notify_channel="19:ops@thread.tacv2"))
    assert config.development
    assert "LOCAL DEVELOPMENT MODE" in (banner(config) or "")
    unconfigured = TeamsConfig.from_settings(settings_for(tmp_path, None))
    assert unconfigured.development
    assert banner(unconfigured) is None  # said at the first activity instead


async def test_development_mode_accepts_only_loopback_service_urls(tmp_path, caplog):
    """...and the first activity it answers says, once, that nothing is authenticated (no Teams setting was
    configured, so the server said nothing about Teams at start)."""
    caplog.set_level(logging.WARNING, logger="actiondesk.bot.teams.routes")
    connector = Connector()
    await connector.start_connector()
    desk = await start_desk(settings_for(tmp_path, None))
    try:
        async with httpx.AsyncClient(timeout=30) as http:
            remote = mention("https://smba.trafficmanager.net/amer/", "payment gateway is throwing 500s")
            assert (await http.post(f"{desk.url}/api/messages", json=remote)).status_code == 403
            local = mention(connector.url, "payment gateway is throwing 500s")
            assert (await http.post(f"{desk.url}/api/messages", json=local)).status_code == 201
            again = mention(connector.url, "search is really slow")
            assert (await http.post(f"{desk.url}/api/messages", json=again)).status_code == 201
        sent = await connector.wait_for(lambda calls: [c for c in calls if c.method == "POST"])
        assert sent[0].authorization is None
        warned = [r for r in caplog.records if "LOCAL DEVELOPMENT MODE" in r.getMessage()]
        assert len(warned) == 1
    finally:
        await desk.runner.cleanup()
        await connector.stop()


async def test_a_signed_plain_http_service_url_off_loopback_is_refused(world):
    remote = "http://192.0.2.10/teams/"
    body = mention(remote, "payment gateway is throwing 500s")
    response = await world.post(body, "Bearer " + world.tokens.mint(remote))
    assert response.status_code == 403
    assert world.desk.runtime.store.list_cases(None, 5) == []
