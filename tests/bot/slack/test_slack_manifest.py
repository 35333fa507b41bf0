"""manifest.yml and manifest.socket.yml ask for exactly what the code registers and calls."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import yaml
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from actiondesk.bot.slack.desk import SlackDesk
from actiondesk.bot.slack.listeners import Registered, register
from actiondesk.bot.slack.mount import PATH
from actiondesk.bot.slack.scopes import METHOD_SCOPES, SDK_CALLS, bot_scopes

ROOT = Path(__file__).resolve().parents[3]


def _registered() -> Registered:
    app = AsyncApp(client=AsyncWebClient(token="xoxb-manifest"), signing_secret="s")
    return register(app, cast(SlackDesk, None))  # listeners only close over the desk; nothing runs here


def _load(name: str) -> dict[str, Any]:
    return yaml.safe_load((ROOT / name).read_text())


def test_http_manifest_matches_the_registered_listeners_and_called_methods():
    registered = _registered()
    manifest = _load("manifest.yml")
    settings = manifest["settings"]
    assert manifest["oauth_config"]["scopes"]["bot"] == bot_scopes(registered)
    assert settings["event_subscriptions"]["bot_events"] == registered.events
    assert [c["command"] for c in manifest["features"]["slash_commands"]] == registered.commands
    assert settings["interactivity"]["is_enabled"] is bool(registered.actions or registered.views)
    urls = [settings["event_subscriptions"]["request_url"], settings["interactivity"]["request_url"]]
    urls += [c["url"] for c in manifest["features"]["slash_commands"]]
    assert all(url.endswith(PATH) for url in urls)
    assert settings["socket_mode_enabled"] is False


def test_socket_manifest_is_the_same_app_without_request_urls():
    http, socket = _load("manifest.yml"), _load("manifest.socket.yml")
    assert socket["settings"]["socket_mode_enabled"] is True
    assert "request_url" not in socket["settings"]["event_subscriptions"]
    assert "request_url" not in socket["settings"]["interactivity"]
    assert all("url" not in c for c in socket["features"]["slash_commands"])
    for key in ("event_subscriptions", "interactivity"):
        http["settings"][key].pop("request_url")
    for command in http["features"]["slash_commands"]:
        command.pop("url")
    http["settings"]["socket_mode_enabled"] = True
    assert socket == http


def test_every_method_the_scopes_cover_is_one_the_code_calls():
    source = "".join(p.read_text() for p in (ROOT / "actiondesk" / "bot" / "slack").glob("*.py"))
    for method in set(METHOD_SCOPES) - SDK_CALLS:
        assert f"{method.replace('.', '_')}(" in source, method


def test_direct_messages_work_because_the_app_home_messages_tab_is_on():
    """Defect: message.im was subscribed but the App Home messages tab was off, so people could not DM the bot."""
    for name in ("manifest.yml", "manifest.socket.yml"):
        home = _load(name)["features"].get("app_home", {})
        assert home.get("messages_tab_enabled") is True, name
        assert home.get("messages_tab_read_only_enabled") is False, name
