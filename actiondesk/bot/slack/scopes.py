"""The OAuth scopes the code needs, from the Web API methods it calls and the events and commands it registers.
manifest.yml asks for exactly these; a test keeps the two in step."""

from __future__ import annotations

from actiondesk.bot.slack.listeners import Registered

METHOD_SCOPES: dict[str, tuple[str, ...]] = {
    "auth.test": (),  # the bot's own ids, learned in the background (account.py)
    "chat.postMessage": ("chat:write",),
    "chat.update": ("chat:write",),
    "chat.postEphemeral": ("chat:write",),
    "views.open": (),
    "users.info": ("users:read", "users:read.email"),  # the clicker's email, when the directory has no Slack id
    "apps.connections.open": (),  # Socket Mode, with the app-level token (connections:write), not a bot scope
}
SDK_CALLS = frozenset({"apps.connections.open"})  # called by slack_sdk's Socket Mode client, not by our code
EVENT_SCOPES: dict[str, tuple[str, ...]] = {
    "app_mention": ("app_mentions:read",),
    "message.channels": ("channels:history",),
    "message.groups": ("groups:history",),
    "message.im": ("im:history",),
}
COMMAND_SCOPE = "commands"


def bot_scopes(registered: Registered) -> list[str]:
    scopes = {s for method in METHOD_SCOPES.values() for s in method}
    scopes |= {s for event in registered.events for s in EVENT_SCOPES[event]}
    if registered.commands:
        scopes.add(COMMAND_SCOPE)
    return sorted(scopes)
