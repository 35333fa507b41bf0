"""Every botbuilder import stays inside actiondesk/bot/teams/, so the surface can move to the Microsoft 365
Agents SDK without touching anything else; and importing the package itself imports no botbuilder."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
VENDOR = ("botbuilder", "botframework", "msrest", "msal")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_botbuilder_is_imported_only_under_bot_teams():
    package = ROOT / "actiondesk"
    teams = package / "bot" / "teams"
    offenders = [
        str(path.relative_to(ROOT))
        for path in package.rglob("*.py")
        if teams not in path.parents and _imports(path) & set(VENDOR)
    ]
    assert offenders == []
    assert any(_imports(path) & set(VENDOR) for path in teams.glob("*.py"))  # the check can see them


def test_the_cli_and_the_teams_package_import_no_botbuilder():
    code = (
        "import sys, actiondesk.bot.teams, actiondesk.bot.teams.package, actiondesk.bot.teams.config\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {VENDOR!r}))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert result.stdout.strip() == "[]"
