"""`actiondesk token create|list|revoke`: the token is printed once and only its hash is stored; its scopes are
enforced; a revoked token is refused; bad input is a clear error (exit 2) that changes nothing."""

from __future__ import annotations

import json
from contextlib import chdir
from pathlib import Path

import httpx
from click.testing import Result
from serverproc import ServerProcess, server_env
from typer.testing import CliRunner

from actiondesk.adapters.store import SqlStore, make_engine
from actiondesk.bot.cli.main import app


def _cli(env: dict[str, str], cwd: Path, *args: str) -> Result:
    """`actiondesk token ARGS` in this process (CliRunner sets the environment for the call), from ``cwd``."""
    settings_env = {k: v for k, v in env.items() if k.startswith("ACTIONDESK_") or k == "DATABASE_URL"}
    with chdir(cwd):
        return CliRunner().invoke(app, ["token", *args], env=settings_env)


def test_create_list_use_revoke(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    env = server_env(url)
    made = _cli(env, tmp_path, "create", "--person", "bob", "--scopes", "cases:read,approve", "--expires", "30d")
    assert made.exit_code == 0, made.stderr
    token = made.stdout.strip()
    assert token.startswith("adt_")
    assert "shown once" in made.stderr
    _, token_id, secret = token.split("_", 2)  # the secret may itself hold "_"

    listed = _cli(env, tmp_path, "list", "--json")
    (row,) = json.loads(listed.stdout)
    assert (row["id"], row["person"], row["scopes"], row["revoked_at"]) == (
        token_id,
        "bob",
        ["approve", "cases:read"],
        None,
    )
    assert row["expires_at"] is not None
    assert secret not in listed.stdout
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            dump = "\n".join(str(r) for r in connection.exec_driver_sql("SELECT * FROM api_tokens"))
        assert secret not in dump  # the secret is nowhere in the database
        kinds = [e.kind.value for e in SqlStore(engine).audit()]
        assert "token_created" in kinds
    finally:
        engine.dispose()

    server = ServerProcess.start(env, tmp_path)
    try:
        auth = {"Authorization": f"Bearer {token}"}
        assert httpx.get(f"{server.url}/api/cases", headers=auth, timeout=10).status_code == 200
        write = httpx.post(f"{server.url}/api/cases", json={"text": "hello"}, headers=auth, timeout=10)
        assert write.status_code == 403  # no cases:write in this token
        assert _cli(env, tmp_path, "revoke", token_id).exit_code == 0
        assert httpx.get(f"{server.url}/api/cases", headers=auth, timeout=10).status_code == 401
    finally:
        server.stop()
    again = _cli(env, tmp_path, "revoke", token_id)
    assert again.exit_code == 2
    assert "no active token" in again.stderr


def test_bad_input_is_a_clear_error_and_creates_nothing(tmp_path: Path) -> None:
    env = server_env(f"sqlite:///{tmp_path / 'a.db'}")
    for args, message in (
        (["--person", "mallory", "--scopes", "cases:read"], "not in the directory"),
        (["--person", "bob", "--scopes", "cases:read,root"], "unknown scope root"),
        (["--person", "bob", "--scopes", ""], "at least one"),
        (["--person", "bob", "--scopes", "approve", "--expires", "forever"], "--expires"),
    ):
        made = _cli(env, tmp_path, "create", *args)
        assert made.exit_code == 2, args
        assert message in made.stderr, (args, made.stderr)
        assert made.stdout == ""
    assert json.loads(_cli(env, tmp_path, "list", "--json").stdout) == []
