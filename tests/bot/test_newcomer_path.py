"""The newcomer's path (issue 14): what a person meets in the first ten minutes says what it should and nothing
it should not — `make run PORT=…`, quiet routine logs, no Teams warning unless Teams is configured, no migration
chatter on CLI commands, `audit export | head` without a traceback, a header on `actions list`, flags as flags
in `--help`, and `policy check` on the targets the console decides."""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import typer
from pydantic import SecretStr
from typer.testing import CliRunner

from actiondesk.adapters.store import SqlStore, make_engine, upgrade
from actiondesk.bot.cli.main import app
from actiondesk.bot.teams.config import TeamsConfig, banner
from actiondesk.bot.wiring.logs import configure_logging
from actiondesk.core.audit import AuditDraft, AuditKind
from actiondesk.core.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def _env(database_url: str, cwd: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(cwd),
        "LANG": "C.UTF-8",
        "COLUMNS": "160",
        "DATABASE_URL": database_url,
    }


def _cli(database_url: str, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "actiondesk", *args],
        cwd=cwd,
        env=_env(database_url, cwd),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_make_run_passes_port_and_host_to_serve():
    dry = subprocess.run(
        ["make", "-n", "-o", ".venv/.installed", "run", "PORT=9000"], cwd=ROOT, capture_output=True, text=True
    )
    assert dry.returncode == 0, dry.stderr
    assert "actiondesk serve --port 9000" in dry.stdout
    plain = subprocess.run(["make", "-n", "-o", ".venv/.installed", "run"], cwd=ROOT, capture_output=True, text=True)
    assert "--port" not in plain.stdout
    hosted = subprocess.run(
        ["make", "-n", "-o", ".venv/.installed", "run", "HOST=0.0.0.0", "PORT=9000"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert "actiondesk serve --host 0.0.0.0 --port 9000" in hosted.stdout


@pytest.mark.parametrize("logger", ["apscheduler.executors.default", "apscheduler.scheduler", "alembic.runtime"])
def test_the_schedulers_and_migrations_routine_lines_are_debug(logger):
    stream = io.StringIO()
    root = logging.getLogger()
    before = root.level
    try:
        configure_logging(Settings(_env_file=None, log_level="INFO"), stream)  # type: ignore[call-arg]
        logging.getLogger(logger).info('Running job "Scheduler._job" (scheduled at now)')
        logging.getLogger(logger).warning("a real problem")
        logging.getLogger("actiondesk.bot.wiring.boot").info("sandbox estate restored")
        lines = stream.getvalue().splitlines()
        assert [line.split(" ", 2)[2] for line in lines] == [
            f"WARNING {logger}: a real problem",
            "INFO actiondesk.bot.wiring.boot: sandbox estate restored",
        ]
        configure_logging(Settings(_env_file=None, log_level="DEBUG"), stream)  # type: ignore[call-arg]
        logging.getLogger(logger).info("routine")
        assert stream.getvalue().splitlines()[-1].endswith(f"DEBUG {logger}: routine")
    finally:
        configure_logging(Settings(_env_file=None, log_level=logging.getLevelName(before)), io.StringIO())  # type: ignore[call-arg]


def test_the_teams_development_warning_only_when_teams_is_configured():
    plain = TeamsConfig.from_settings(Settings(_env_file=None))  # type: ignore[call-arg]
    assert plain.development
    assert banner(plain) is None  # `make run` says nothing about Teams
    for configured in (
        {"teams_notify_channel": "19:abc@thread.tacv2"},
        {"microsoft_app_password": SecretStr("a-password")},
        {"teams_oauth_url": "https://login.example.com/token"},
    ):
        config = TeamsConfig.from_settings(Settings(_env_file=None, **configured))  # type: ignore[call-arg]
        assert "LOCAL DEVELOPMENT MODE" in (banner(config) or ""), configured


def test_cli_commands_print_no_migration_chatter(tmp_path):
    result = _cli(f"sqlite:///{tmp_path / 'fresh.db'}", tmp_path, "actions", "list")
    assert result.returncode == 0, result.stderr
    assert "alembic" not in result.stderr
    assert "setup plugin" not in result.stderr


def test_actions_list_prints_a_header():
    result = CliRunner().invoke(app, ["actions", "list"], env={"DATABASE_URL": "sqlite:///:memory:"})
    assert result.exit_code == 0, result.output
    header, first, *_ = result.output.splitlines()
    assert header.split() == ["ACTION", "PACK", "SCOPE", "RISK", "STATE"]
    assert first.split()[0] != "ACTION"


def test_audit_export_into_head_ends_quietly(tmp_path):
    url = f"sqlite:///{tmp_path / 'audit.db'}"
    upgrade(url)
    engine = make_engine(url)
    store = SqlStore(engine)
    at = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
    with store.transaction() as unit:
        for n in range(1500):  # far more than a pipe holds, so the writer meets the closed end
            unit.append_audit(AuditDraft(kind=AuditKind.MESSAGE, case_id=None, actor="alice", at=at,
                                         payload={"text": f"line {n} " + "x" * 300}))  # fmt: skip
    engine.dispose()
    pipeline = subprocess.run(
        ["sh", "-c", f'"{sys.executable}" -m actiondesk audit export | head -n 1'],
        cwd=tmp_path,
        env=_env(url, tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert pipeline.stdout.startswith("{")
    assert len(pipeline.stdout.splitlines()) == 1
    assert "Traceback" not in pipeline.stderr
    assert "BrokenPipe" not in pipeline.stderr
    assert pipeline.stderr == ""


def _commands(group: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    """Every command under ``group`` (Typer's own click: duck-typed)."""
    found = [(path, group)]
    if hasattr(group, "list_commands"):
        context = group.context_class(group)
        for name in group.list_commands(context):
            command = group.get_command(context, name)
            assert command is not None
            found += _commands(command, (*path, name))
    return found


def test_boolean_flags_are_shown_as_flags_in_help():
    commands = _commands(typer.main.get_command(app))
    assert len(commands) > 20
    runner = CliRunner()
    for path, command in commands:
        result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "160"})
        assert result.exit_code == 0, (path, result.output)
        assert "<bool>" not in result.output, path
        for param in command.params:
            if param.param_type_name == "option" and getattr(param, "is_flag", False) and not param.hidden:
                line = next(line for line in result.output.splitlines() if param.opts[0] in line)
                assert f"{param.opts[0]} " in line or line.rstrip().endswith(param.opts[0]), (path, line)
                assert "BOOLEAN" not in line, (path, line)


@pytest.mark.parametrize(
    ("action", "target"),
    [
        ("reset_vpn_session", "frank"),  # a person
        ("disable_account", "frank"),
        ("clear_log_volume", "worker-1"),  # a host
        ("rollback_deployment", "payment-gateway"),  # a service of the estate
    ],
)
def test_policy_check_accepts_the_targets_the_console_decides(tmp_path, action, target):
    result = CliRunner().invoke(
        app,
        ["policy", "check", "--action", action, "--target", target, "--json"],
        env={"DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}"},
    )
    assert result.exit_code == 0, result.output
    assert '"outcome"' in result.output


def test_policy_check_still_refuses_an_unknown_service(tmp_path):
    result = CliRunner().invoke(
        app,
        ["policy", "check", "--action", "rollback_deployment", "--target", "no-such-service"],
        env={"DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}"},
    )
    assert result.exit_code == 2
    assert "no-such-service" in result.output
