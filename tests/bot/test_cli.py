"""The real `actiondesk` command in a subprocess, with a clean environment and its own database."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from actiondesk.adapters.store import head_revision
from actiondesk.core.audit import entry_hash

ROOT = Path(__file__).resolve().parents[2]
BAD_DEPLOY = ROOT / "scenarios" / "bad-deploy-rollback.yaml"


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str


def cli(database_url: str, cwd: Path, *args: str) -> Result:
    """Run ``python -m actiondesk ARGS`` in ``cwd`` (no .env there) with only DATABASE_URL set for it."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(cwd),
        "LANG": "C.UTF-8",
        "COLUMNS": "160",
        "DATABASE_URL": database_url,
    }
    done = subprocess.run(
        [sys.executable, "-m", "actiondesk", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return Result(done.returncode, done.stdout, done.stderr)


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


@dataclass(frozen=True)
class Played:
    """A SQLite database the CLI played the bad-deploy scenario into, and what it printed."""

    path: Path
    report: dict
    entries: int


@pytest.fixture(scope="module")
def played(tmp_path_factory: pytest.TempPathFactory) -> Played:
    folder = tmp_path_factory.mktemp("played")
    path = folder / "actiondesk.db"
    result = cli(sqlite_url(path), folder, "scenario", "run", str(BAD_DEPLOY), "--json")
    assert result.code == 0, result.err
    with sqlite3.connect(path) as db:
        entries = db.execute("SELECT count(*) FROM audit_entries").fetchone()[0]
    return Played(path, json.loads(result.out), entries)


@pytest.fixture
def db(played: Played, tmp_path: Path) -> Path:
    """A private copy of the played database, to tamper with."""
    copy = tmp_path / "actiondesk.db"
    shutil.copy(played.path, copy)
    for suffix in ("-wal", "-shm"):
        side = played.path.with_name(played.path.name + suffix)
        if side.exists():
            shutil.copy(side, copy.with_name(copy.name + suffix))
    return copy


def test_db_upgrade_prints_the_revision_and_is_repeatable(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "fresh.db")
    first = cli(url, tmp_path, "db", "upgrade")
    second = cli(url, tmp_path, "db", "upgrade")

    for result in (first, second):
        assert result.code == 0, result.err
        assert result.out.strip() == f"database at revision {head_revision()}"


def test_scenario_run_json_exits_0_with_a_passing_report(played: Played) -> None:
    report = played.report
    assert report["passed"] is True
    assert report["status"] == "resolved"
    assert report["mismatches"] == []
    assert report["audit_verified"] is True
    assert [a["name"] for a in report["actions"]] == ["rollback_deployment"]


def test_a_scenario_whose_expectation_is_wrong_exits_1(tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(BAD_DEPLOY.read_text().replace("status: resolved", "status: escalated"))

    result = cli(sqlite_url(tmp_path / "a.db"), tmp_path, "scenario", "run", "wrong.yaml", "--json")

    assert result.code == 1, result.err
    report = json.loads(result.out)
    assert report["passed"] is False
    assert report["mismatches"] == ["status: expected escalated, got resolved"]


MALFORMED = {
    "bad-yaml": ("name: broken\nevents:\n  - {at: 0, deploy: {service: search\n", ["line"]),
    "unknown-kind": (
        "name: unknown-kind\nevents:\n  - {at: 0, deploy: {service: search, version: v2, commit: abcdef1}}\n"
        "  - {at: 5, explode: {service: search}}\n",
        ["events[1].explode", "unknown event kind"],
    ),
}


@pytest.mark.parametrize("kind", sorted(MALFORMED))
def test_a_malformed_scenario_exits_2_naming_file_and_place_and_loses_nothing(db: Path, kind: str) -> None:
    body, expected = MALFORMED[kind]
    (db.parent / f"{kind}.yaml").write_text(body)
    with sqlite3.connect(db) as connection:
        before = connection.execute("SELECT id, status FROM cases").fetchall()
    assert before, "the played scenario left a case behind"

    result = cli(sqlite_url(db), db.parent, "scenario", "run", f"{kind}.yaml", "--json")

    assert result.code == 2, (result.out, result.err)
    assert result.out == ""
    assert f"{kind}.yaml" in result.err
    for fragment in expected:
        assert fragment in result.err
    assert "Traceback" not in result.err
    with sqlite3.connect(db) as connection:
        assert connection.execute("SELECT id, status FROM cases").fetchall() == before


def test_audit_verify_exits_0_on_an_intact_trail(db: Path, played: Played) -> None:
    result = cli(sqlite_url(db), db.parent, "audit", "verify")

    assert result.code == 0, result.err
    assert f"verified: {played.entries} entries" in result.out


@pytest.mark.parametrize("command", [("audit", "verify"), ("audit", "export")], ids=["verify", "export"])
def test_audit_commands_on_an_unmigrated_database_say_so_and_exit_2(tmp_path: Path, command: tuple[str, str]) -> None:
    result = cli(sqlite_url(tmp_path / "never-migrated.db"), tmp_path, *command)

    assert "Traceback" not in result.err
    assert "not migrated" in result.err
    assert result.code == 2


def tampered(db: Path, *statements: tuple[str, tuple]) -> None:
    with sqlite3.connect(db) as connection:
        for statement, params in statements:
            connection.execute(statement, params)


def flip_one_byte(payload: str) -> str:
    i = payload.index("payment-gateway")
    return payload[:i] + "P" + payload[i + 1 :]


def test_audit_verify_names_an_edited_entry(db: Path) -> None:
    with sqlite3.connect(db) as connection:
        seq, payload = connection.execute(
            "SELECT seq, payload FROM audit_entries WHERE kind = 'action_started'"
        ).fetchone()
    tampered(db, ("UPDATE audit_entries SET payload = ? WHERE seq = ?", (flip_one_byte(payload), seq)))

    result = cli(sqlite_url(db), db.parent, "audit", "verify")

    assert result.code == 1
    assert f"BROKEN at entry {seq}:" in result.err


def test_audit_verify_names_a_deleted_entry(db: Path) -> None:
    tampered(db, ("DELETE FROM audit_entries WHERE seq = ?", (7,)))

    result = cli(sqlite_url(db), db.parent, "audit", "verify")

    assert result.code == 1
    assert "BROKEN at entry 7: entry 7 is missing" in result.err


def test_audit_verify_detects_two_swapped_entries(db: Path) -> None:
    tampered(
        db,
        ("UPDATE audit_entries SET seq = -1 WHERE seq = 4", ()),
        ("UPDATE audit_entries SET seq = 4 WHERE seq = 9", ()),
        ("UPDATE audit_entries SET seq = 9 WHERE seq = -1", ()),
    )

    result = cli(sqlite_url(db), db.parent, "audit", "verify")

    assert result.code == 1
    assert "BROKEN at entry 4:" in result.err


def _rewrite_chain_from_the_action(db: Path) -> int:
    """Edit one entry and recompute every hash after it, the head row included: the chain alone still verifies."""
    with sqlite3.connect(db) as connection:
        rows = connection.execute(
            "SELECT seq, kind, case_id, actor, at, payload FROM audit_entries ORDER BY seq"
        ).fetchall()
        target = next(row[0] for row in rows if row[1] == "action_started")
        prev = connection.execute("SELECT hash FROM audit_entries WHERE seq = ?", (target - 1,)).fetchone()[0]
        for seq, kind, case_id, actor, at, payload in rows[target - 1 :]:
            if seq == target:
                payload = flip_one_byte(payload)
            digest = entry_hash(seq, kind, case_id, actor, datetime.fromisoformat(at), payload, prev)
            connection.execute(
                "UPDATE audit_entries SET payload = ?, prev_hash = ?, hash = ? WHERE seq = ?",
                (payload, prev, digest, seq),
            )
            prev = digest
        connection.execute("UPDATE audit_head SET hash = ? WHERE id = 1", (prev,))
    return target


def _checkpointed(db: Path) -> tuple[Path, Path]:
    key, published = db.parent / "audit.key", db.parent / "checkpoints.jsonl"
    made = cli(sqlite_url(db), db.parent, "audit", "keygen", "--out", str(key))
    assert made.code == 0, made.err
    assert "BEGIN PUBLIC KEY" in made.out
    signed = cli(sqlite_url(db), db.parent, "audit", "checkpoint", "--key", str(key), "--out", str(published))
    assert signed.code == 0, signed.err
    return key, published


def test_a_rewrite_of_the_whole_chain_passes_the_chain_alone(db: Path) -> None:
    """The limit a hash chain cannot cross by itself, and why checkpoints are published outside the database."""
    _rewrite_chain_from_the_action(db)

    assert cli(sqlite_url(db), db.parent, "audit", "verify").code == 0


def test_a_signed_checkpoint_catches_a_rewrite_of_the_whole_chain(db: Path) -> None:
    key, published = _checkpointed(db)
    checkpointed = json.loads(published.read_text())["seq"]
    _rewrite_chain_from_the_action(db)

    result = cli(
        sqlite_url(db),
        db.parent,
        "audit",
        "verify",
        "--checkpoints",
        str(published),
        "--public-key",
        str(key) + ".pub",
    )

    assert result.code == 1, result.out
    assert f"BROKEN at entry {checkpointed}: entry differs from its signed checkpoint" in result.err


def test_a_signed_checkpoint_catches_a_deleted_tail(db: Path) -> None:
    key, published = _checkpointed(db)
    with sqlite3.connect(db) as connection:
        last = connection.execute("SELECT max(seq) FROM audit_entries").fetchone()[0]
        connection.execute("DELETE FROM audit_entries WHERE seq > ?", (last - 3,))
        seq, digest = connection.execute("SELECT seq, hash FROM audit_entries ORDER BY seq DESC LIMIT 1").fetchone()
        connection.execute("UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1", (seq, digest))

    plain = cli(sqlite_url(db), db.parent, "audit", "verify")
    signed = cli(
        sqlite_url(db), db.parent, "audit", "verify", "--checkpoints", str(published), "--public-key", str(key)
    )

    assert plain.code == 0  # head row rewritten too: only the checkpoint knows better
    assert signed.code == 1
    assert f"covers entry {last}" in signed.err


def test_a_forged_checkpoint_line_is_refused(db: Path) -> None:
    key, published = _checkpointed(db)
    record = json.loads(published.read_text())
    record["hash"] = "f" * 64
    published.write_text(json.dumps(record) + "\n")

    result = cli(
        sqlite_url(db), db.parent, "audit", "verify", "--checkpoints", str(published), "--public-key", str(key)
    )

    assert result.code == 1
    assert "line 1: bad signature" in result.err


def test_audit_export_writes_one_json_line_per_entry_of_the_case(db: Path, played: Played) -> None:
    (case_id,) = played.report["cases"]

    result = cli(sqlite_url(db), db.parent, "audit", "export", "--case", case_id)

    assert result.code == 0, result.err
    lines = [json.loads(line) for line in result.out.splitlines()]
    assert len(lines) > 10
    for line in lines:
        assert set(line) >= {"kind", "case_id", "actor", "at", "payload", "prev_hash", "hash"}
        assert line["case_id"] == case_id
    assert lines[0]["kind"] == "case_opened"
    assert lines[-1]["kind"] in {"case_resolved", "message"}
    assert "case_resolved" in [line["kind"] for line in lines]
    seqs = [line["seq"] for line in lines]
    assert seqs == sorted(seqs)


def test_demo_exits_0_and_tells_the_story(tmp_path: Path) -> None:
    result = cli(sqlite_url(tmp_path / "unused.db"), tmp_path, "demo")

    assert result.code == 0, result.err
    for fragment in ("ActionDesk demo", "approval_requested", "rollback_deployment", "PASSED", "9f3c2ab"):
        assert fragment in result.out, fragment
    assert not (tmp_path / "unused.db").exists(), "the demo plays in a throwaway database"


@pytest.mark.postgres
def test_postgres_refuses_edits_and_verify_names_the_entry_a_superuser_edited(
    postgres_url: str, tmp_path: Path
) -> None:
    played = cli(postgres_url, tmp_path, "scenario", "run", str(BAD_DEPLOY), "--json")
    assert played.code == 0, played.err
    assert cli(postgres_url, tmp_path, "audit", "verify").code == 0
    engine = create_engine(postgres_url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            seq, payload = connection.execute(
                text("SELECT seq, payload FROM audit_entries WHERE kind = 'action_started'")
            ).one()
        edit = text("UPDATE audit_entries SET payload = :payload WHERE seq = :seq")
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
            connection.execute(edit, {"payload": flip_one_byte(payload), "seq": seq})
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
            connection.execute(text("DELETE FROM audit_entries WHERE seq = 3"))
        assert cli(postgres_url, tmp_path, "audit", "verify").code == 0, "the refused edits left no trace"

        with engine.begin() as connection:  # what a superuser can still do
            connection.execute(text("ALTER TABLE audit_entries DISABLE TRIGGER ALL"))
            connection.execute(edit, {"payload": flip_one_byte(payload), "seq": seq})
            connection.execute(text("ALTER TABLE audit_entries ENABLE TRIGGER ALL"))
    finally:
        engine.dispose()

    result = cli(postgres_url, tmp_path, "audit", "verify")

    assert result.code == 1
    assert f"BROKEN at entry {seq}:" in result.err


def test_report_gives_the_figures_of_the_recorded_cases(db: Path, played: Played) -> None:
    days = (datetime.now(UTC) - datetime(2026, 11, 1, tzinfo=UTC)).days + 2

    as_json = cli(sqlite_url(db), db.parent, "report", "--days", str(days), "--json")
    as_text = cli(sqlite_url(db), db.parent, "report", "--days", str(days))

    assert as_json.code == 0, as_json.err
    figures = json.loads(as_json.out)
    assert (figures["cases"], figures["resolved"]) == (1, 1)
    assert figures["mttr"]["mean"] == played.report["mttr_seconds"] == 190.0
    assert figures["approval_wait"]["mean"] == 180.0  # requested at 120 s, approved at 300 s
    assert figures["fcr"] == 1.0
    assert as_text.code == 0
    assert "MTTR 3.2 min" in as_text.out
