from __future__ import annotations

import re
from pathlib import Path

import pytest

from actiondesk.core.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def _env_names() -> set[str]:
    names = set()
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias
        choices = getattr(alias, "choices", None)
        names.add(str(choices[0]) if choices else f"ACTIONDESK_{name.upper()}")
    return names


def test_env_example_lists_every_setting_and_nothing_else():
    text = (ROOT / ".env.example").read_text()
    listed = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", text, flags=re.MULTILINE))
    assert listed == _env_names()


def test_env_example_values_parse(monkeypatch, tmp_path):
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            if value:
                monkeypatch.setenv(key, value)
    monkeypatch.chdir(tmp_path)
    settings = Settings()
    assert settings.database_url == "sqlite:///./actiondesk.db"
    assert settings.port == 8080


def test_bad_values_are_refused(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ACTIONDESK_PORT", "http")
    with pytest.raises(ValueError, match="port"):
        Settings()


@pytest.mark.parametrize(
    ("name", "value", "field"),
    [
        ("ACTIONDESK_CONFIDENCE_THRESHOLD", "1.5", "confidence_threshold"),
        ("ACTIONDESK_CONFIDENCE_THRESHOLDS", '{"payment-gateway": 95}', "confidence threshold is a number from 0 to 1"),
        ("ACTIONDESK_CONFIDENCE_THRESHOLDS", '{"search": "high"}', "confidence_thresholds"),
    ],
)
def test_bad_confidence_thresholds_are_refused(monkeypatch, tmp_path, name, value, field):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=field):
        Settings()
