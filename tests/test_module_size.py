"""No module of the package is over 400 lines: a module that outgrows that holds more than one concern."""

from __future__ import annotations

from pathlib import Path

import actiondesk

LIMIT = 400


def test_no_module_is_over_400_lines() -> None:
    package = Path(actiondesk.__file__).parent
    lengths = {path.relative_to(package.parent): len(path.read_text().splitlines()) for path in package.rglob("*.py")}
    assert len(lengths) > 100  # the package was found, not an empty folder
    over = {str(path): n for path, n in lengths.items() if n > LIMIT}
    assert over == {}, f"split these by concern: {over}"
