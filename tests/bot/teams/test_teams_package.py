"""`actiondesk teams package`: a zip with manifest.json and two icons, valid for the schema it declares."""

from __future__ import annotations

import json
import re
import struct
import zipfile
import zlib
from pathlib import Path

import jsonschema
import pytest
from fixturefiles import DATA, SHARED, own
from teams_fakes import APP_ID
from typer.testing import CliRunner

from actiondesk.bot.cli.main import app
from actiondesk.bot.teams.package import MANIFEST_VERSION

VERSIONED = re.compile(r"/teams/v(\d+\.\d+)/MicrosoftTeams\.schema\.json$")


@pytest.fixture
def package(tmp_path, monkeypatch) -> zipfile.ZipFile:
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "actiondesk-teams.zip"
    result = CliRunner().invoke(app, ["teams", "package", "--out", str(out)], env={"MICROSOFT_APP_ID": APP_ID})
    assert result.exit_code == 0, result.output
    return zipfile.ZipFile(out)


def read_png(data: bytes) -> tuple[int, int, list[bytes]]:
    """Decode an 8-bit RGBA, non-interlaced PNG (what the package writes), checking every chunk's CRC."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    offset, idat, header = 8, b"", b""
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        body = data[offset + 8 : offset + 8 + length]
        (crc,) = struct.unpack(">I", data[offset + 8 + length : offset + 12 + length])
        assert zlib.crc32(kind + body) & 0xFFFFFFFF == crc, kind
        header = body if kind == b"IHDR" else header
        idat += body if kind == b"IDAT" else b""
        offset += 12 + length
    width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert (depth, color, interlace) == (8, 6, 0)
    raw = zlib.decompress(idat)
    stride = width * 4 + 1
    rows = [raw[i * stride + 1 : (i + 1) * stride] for i in range(height)]
    assert all(raw[i * stride] == 0 for i in range(height))
    return width, height, rows


def test_the_package_is_structurally_valid(package):
    assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]
    manifest = json.loads(package.read("manifest.json"))
    declared = VERSIONED.search(manifest["$schema"])
    assert declared is not None
    assert manifest["manifestVersion"] == declared.group(1)
    for key in ("manifestVersion", "version", "id", "developer", "name", "description", "icons", "accentColor"):
        assert key in manifest, key
    assert re.fullmatch(r"\d+\.\d+\.\d+", manifest["version"])
    assert manifest["id"] == APP_ID
    assert all(manifest["developer"][k].startswith("https://") for k in ("websiteUrl", "privacyUrl", "termsOfUseUrl"))
    assert len(manifest["name"]["short"]) <= 30
    assert len(manifest["name"]["full"]) <= 100
    assert len(manifest["description"]["short"]) <= 80
    assert len(manifest["description"]["full"]) <= 4000
    assert re.fullmatch(r"#[0-9A-Fa-f]{6}", manifest["accentColor"])
    (bot,) = manifest["bots"]
    assert bot["botId"] == APP_ID
    assert set(bot["scopes"]) <= {"team", "personal", "groupChat"}
    assert set(manifest["icons"].values()) == {"color.png", "outline.png"}


def test_the_icons_have_the_sizes_teams_requires(package):
    width, height, rows = read_png(package.read("color.png"))
    assert (width, height) == (192, 192)
    assert all(row[3::4] == b"\xff" * width for row in rows)  # the color icon is opaque
    width, height, rows = read_png(package.read("outline.png"))
    assert (width, height) == (32, 32)
    pixels = {row[i : i + 4] for row in rows for i in range(0, len(row), 4)}
    assert pixels == {b"\xff\xff\xff\xff", b"\x00\x00\x00\x00"}  # white on transparent, nothing else


def test_without_an_app_id_there_is_no_package(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "p.zip"
    result = CliRunner().invoke(app, ["teams", "package", "--out", str(out)], env={"MICROSOFT_APP_ID": ""})
    assert result.exit_code == 2
    assert "MICROSOFT_APP_ID" in result.output
    assert not out.exists()


def _schemas() -> list[Path]:
    """Our own schema of the declared manifest version, and any published one of that version under
    ../shared/fixtures/teams (an extra cross-check)."""
    found = [own(f"teams/MicrosoftTeams.schema.v{MANIFEST_VERSION}.json")]
    folder = SHARED / "teams"
    if folder.exists():
        candidates = [
            p for p in folder.rglob("*.json") if "schema" in p.name.lower() and f"v{MANIFEST_VERSION}" in str(p)
        ]
        candidates += list(folder.rglob("MicrosoftTeams.schema.json"))
        for path in candidates:
            document = json.loads(path.read_text())
            if MANIFEST_VERSION in json.dumps(document.get("properties", {}).get("manifestVersion", {})):
                found.append(path)
    return found


@pytest.mark.parametrize("schema", _schemas(), ids=lambda p: "own" if p.is_relative_to(DATA) else "shared")
def test_the_manifest_validates_against_the_declared_schema(package, schema):
    manifest = json.loads(package.read("manifest.json"))
    assert manifest["manifestVersion"] == MANIFEST_VERSION
    jsonschema.validate(manifest, json.loads(schema.read_text()))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("accentColor", "red"),
        ("version", "1.0"),
        ("id", "not-a-guid"),
        ("developer", {"name": "ActionDesk", "websiteUrl": "https://example.com"}),
        ("bots", [{"botId": APP_ID, "scopes": ["everyone"]}]),
    ],
)
def test_the_schema_refuses_a_manifest_teams_would_refuse(package, field, value):
    """The schema check can fail: a bad colour, a two-part version, a non-GUID id, a developer without the
    privacy and terms URLs, an unknown bot scope."""
    manifest = {**json.loads(package.read("manifest.json")), field: value}
    schema = json.loads(own(f"teams/MicrosoftTeams.schema.v{MANIFEST_VERSION}.json").read_text())
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(manifest, schema)
