"""deploy/compose.yaml against the Compose specification's JSON schema (the copy dclint ships) and dclint's
rules; the Prometheus and Alertmanager files it mounts with their own tools (promtool, amtool); and the
wiring between them: Prometheus scrapes ActionDesk's /metrics, Alertmanager posts to /api/alerts with the token
ActionDesk checks, the server starts after the migration, and nothing listens beyond 127.0.0.1."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from conftest import DEPLOY
from settings_names import setting_names

COMPOSE = DEPLOY / "compose.yaml"
COMPOSE_ONLY = {"POSTGRES_PASSWORD", "ACTIONDESK_IMAGE"}  # read by compose itself, not by ActionDesk


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


@pytest.fixture(scope="module")
def compose_schema(node_package) -> dict[str, Any]:
    return json.loads((node_package("dclint") / "schemas" / "compose.schema.json").read_text())


def test_the_compose_file_fits_the_compose_specification(compose: dict[str, Any], compose_schema: dict) -> None:
    assert compose_schema["title"] == "Compose Specification"
    jsonschema.validate(compose, compose_schema, cls=jsonschema.Draft7Validator)


def test_the_schema_catches_a_mistake(compose: dict[str, Any], compose_schema: dict) -> None:
    broken = json.loads(json.dumps(compose))
    broken["services"]["actiondesk"]["depends_on"]["migrate"]["condition"] = "service_finished"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, compose_schema, cls=jsonschema.Draft7Validator)


def test_dclint_finds_no_problem(node: str, node_package) -> None:
    cli = node_package("dclint") / "bin" / "dclint.js"
    if not cli.exists():
        cli = next((node_package("dclint") / "bin").iterdir())
    done = subprocess.run(
        [node, str(cli), "--max-warnings", "0", "--formatter", "json", "--color", "false", str(COMPOSE)],
        cwd=DEPLOY,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_server_starts_after_its_migration_on_postgresql(compose: dict[str, Any]) -> None:
    services = compose["services"]
    server, migrate = services["actiondesk"], services["migrate"]
    assert migrate["command"] == ["db", "upgrade"]
    assert server["command"][:3] == ["serve", "--host", "0.0.0.0"]
    assert server["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    assert migrate["depends_on"]["postgres"] == {"condition": "service_healthy"}
    for service in (server, migrate):
        assert service["environment"]["ACTIONDESK_MIGRATE_ON_START"] == "false"
        assert service["environment"]["DATABASE_URL"].startswith("postgresql+psycopg://actiondesk:")
        assert service["environment"]["DATABASE_URL"].endswith("@postgres:5432/actiondesk")
        assert service["build"] == {"context": "..", "dockerfile": "Dockerfile"}
        assert service["read_only"] is True
    assert (DEPLOY / server["build"]["context"] / "Dockerfile").is_file()


def test_nothing_is_published_beyond_loopback(compose: dict[str, Any]) -> None:
    published = [p for s in compose["services"].values() for p in s.get("ports", [])]
    assert published
    assert all(str(p).startswith("127.0.0.1:") for p in published)
    assert "127.0.0.1:8080:8080" in compose["services"]["actiondesk"]["ports"]


def test_prometheus_scrapes_actiondesk_and_alertmanager_posts_back(compose: dict[str, Any]) -> None:
    prometheus = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    job = next(j for j in prometheus["scrape_configs"] if j["job_name"] == "actiondesk")
    assert job["metrics_path"] == "/metrics"
    assert job["static_configs"][0]["targets"] == ["actiondesk:8080"]
    assert prometheus["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] == ["alertmanager:9093"]
    alertmanager = yaml.safe_load((DEPLOY / "alertmanager" / "alertmanager.yml").read_text())
    (hook,) = alertmanager["receivers"][0]["webhook_configs"]
    assert hook["url"] == "http://actiondesk:8080/api/alerts"
    secret = hook["http_config"]["authorization"]["credentials_file"]
    assert secret == "/run/secrets/alert_token"
    assert compose["secrets"]["alert_token"] == {"environment": "ACTIONDESK_ALERT_TOKEN"}
    assert compose["services"]["alertmanager"]["secrets"] == ["alert_token"]
    mounts = [v.split(":")[:2] for v in compose["services"]["prometheus"]["volumes"] if v.startswith("./")]
    assert ["./prometheus/alerts.yml", "/etc/prometheus/alerts.yml"] in mounts
    for source, _ in mounts:
        assert (DEPLOY / source).is_file(), source


def test_prometheus_config_and_rules_pass_promtool(promtool: str, tmp_path: Path) -> None:
    for folder in ("prometheus",):
        for name in ("prometheus.yml", "alerts.yml"):
            shutil.copy(DEPLOY / folder / name, tmp_path / name)
    done = subprocess.run(
        [promtool, "check", "config", str(tmp_path / "prometheus.yml")], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS: 3 rules found" in done.stdout


def test_alertmanager_config_passes_amtool(amtool: str) -> None:
    config = DEPLOY / "alertmanager" / "alertmanager.yml"
    done = subprocess.run([amtool, "check-config", str(config)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_env_file_lists_settings_actiondesk_reads(compose: dict[str, Any]) -> None:
    text = (DEPLOY / ".env.example").read_text()
    listed = set(re.findall(r"^([A-Z][A-Z0-9_]+)=", text, flags=re.MULTILINE))
    assert listed - setting_names() - COMPOSE_ONLY == set()
    interpolated = set(re.findall(r"\$\{([A-Z_]+)", COMPOSE.read_text()))
    assert interpolated <= listed, "every variable compose.yaml needs is in .env.example"
    assert compose["x-actiondesk"]["env_file"] == [".env"]
