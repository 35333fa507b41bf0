"""`actiondesk teams package`: the Teams app package — manifest.json plus its two icons, in one zip.

The manifest declares schema 1.17 and fills exactly what that schema requires, with the bot id from
MICROSOFT_APP_ID (the app id doubles as the Teams app id, as Teams allows).
"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

from pydantic import JsonValue

from actiondesk.bot.teams.png import ACCENT, color_icon, outline_icon
from actiondesk.core.errors import ConfigurationError

MANIFEST_VERSION = "1.17"
SCHEMA_URL = f"https://developer.microsoft.com/en-us/json-schemas/teams/v{MANIFEST_VERSION}/MicrosoftTeams.schema.json"
GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
SEMVER = re.compile(r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$")  # the schema's pattern


def manifest(app_id: str, *, version: str, website: str) -> dict[str, JsonValue]:
    if not GUID.match(app_id):
        raise ConfigurationError("MICROSOFT_APP_ID must be the bot's app id (a GUID) to build a Teams package")
    if not SEMVER.match(version):
        raise ConfigurationError(f"app version {version!r} must look like 1.2.3")
    if not website.startswith("https://"):
        raise ConfigurationError(f"website {website!r} must be an https URL")
    site = website.rstrip("/")
    return {
        "$schema": SCHEMA_URL,
        "manifestVersion": MANIFEST_VERSION,
        "version": version,
        "id": app_id,
        "developer": {
            "name": "ActionDesk",
            "websiteUrl": site,
            "privacyUrl": f"{site}/privacy",
            "termsOfUseUrl": f"{site}/terms",
        },
        "name": {"short": "ActionDesk", "full": "ActionDesk: the service desk that acts"},
        "description": {
            "short": "Triage, fix and verify incidents from chat, with approvals.",
            "full": (
                "Mention ActionDesk with what is wrong. It triages from telemetry and deployments, plans a fix "
                "from runbooks, asks the right group to approve on an Adaptive Card, runs the action exactly "
                "once and only calls the case resolved when the signal is back to baseline."
            ),
        },
        "icons": {"color": "color.png", "outline": "outline.png"},
        "accentColor": "#{:02X}{:02X}{:02X}".format(*ACCENT),
        "bots": [
            {
                "botId": app_id,
                "scopes": ["personal", "team"],
                "supportsFiles": False,
                "isNotificationOnly": False,
            }
        ],
        "validDomains": [],
    }


def write_package(out: Path, app_id: str, *, version: str = "0.1.0", website: str = "https://example.com") -> Path:
    document = manifest(app_id, version=version, website=website)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps(document, indent=2) + "\n")
        archive.writestr("color.png", color_icon())
        archive.writestr("outline.png", outline_icon())
    return out
