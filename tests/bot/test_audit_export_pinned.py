"""`actiondesk audit export` pinned byte for byte against trails stored before the payloads were typed.

Each scenario plays into its own SQLite database through the real command, then the export is compared with
``audit-export/<scenario>.jsonl``. Only what is random in a run is renamed (case, approval and run ids, and the
hashes they feed), each to ``<n>`` in order of first appearance, so keys, values, key order and JSON spelling
are all held. To re-record after a deliberate change of a payload:
``python tests/bot/test_audit_export_pinned.py`` from the repository root, and say why in the commit.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from test_cli import cli, sqlite_url

ROOT = Path(__file__).resolve().parents[2]
EXPECTED = Path(__file__).parent / "audit-export"
# Trails that between them write every kind the case loop, governance, hand-off and post-mortem write.
SCENARIOS = (
    "bad-deploy-rollback",
    "breaker-oscillation",
    "clarify-which-service",
    "level3-sure-runs-alone",
    "no-deploy-control",
    "freeze-routes-to-cab",
)
_RANDOM = re.compile(
    r"\b[0-9a-f]{64}\b|\b[A-Z]+-[0-9a-f]{10}\b|\b[0-9a-f]{32}\b"
    r"|\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"
)


def normalised(export: str) -> str:
    """The export with each random id or hash renamed ``<n>`` by first appearance (chain links stay visible)."""
    names: dict[str, str] = {}
    return _RANDOM.sub(lambda m: names.setdefault(m.group(0), f"<{len(names)}>"), export)


def exported(scenario: str, folder: Path) -> str:
    url = sqlite_url(folder / "actiondesk.db")
    played = cli(url, folder, "scenario", "run", str(ROOT / "scenarios" / f"{scenario}.yaml"), "--json")
    assert played.code == 0, played.err
    result = cli(url, folder, "audit", "export")
    assert result.code == 0, result.err
    verified = cli(url, folder, "audit", "verify")
    assert verified.code == 0, verified.err
    return normalised(result.out)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_audit_export_is_unchanged_for_existing_kinds(scenario: str, tmp_path: Path) -> None:
    expected = (EXPECTED / f"{scenario}.jsonl").read_text(encoding="utf-8")

    assert exported(scenario, tmp_path) == expected


if __name__ == "__main__":
    import tempfile

    for name in sys.argv[1:] or SCENARIOS:
        with tempfile.TemporaryDirectory() as folder:
            (EXPECTED / f"{name}.jsonl").write_text(exported(name, Path(folder)), encoding="utf-8")
