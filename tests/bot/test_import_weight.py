"""What a process imports before it does anything: the commands that need only the store do not import the
composition root, and no process imports the OpenAI SDK until a model is configured (about half a CPU-second)."""

from __future__ import annotations

import subprocess
import sys

import pytest


def _imported_after(code: str) -> set[str]:
    shown = "import sys; print('\\n'.join(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", f"{code}; {shown}"], capture_output=True, text=True, check=True)
    return set(done.stdout.split())


def test_the_store_alone_imports_neither_the_root_nor_the_model_client() -> None:
    modules = _imported_after("from actiondesk.bot.wiring.stores import open_store; import actiondesk.bot.cli.main")

    assert "actiondesk.bot.wiring.stores" in modules
    assert "actiondesk.bot.wiring.root" not in modules
    assert "openai" not in modules


@pytest.mark.parametrize("module", ["actiondesk.bot.server.serve", "actiondesk.bot.wiring.root"])
def test_serving_imports_the_openai_sdk_only_when_a_model_is_built(module: str) -> None:
    assert "openai" not in _imported_after(f"import {module}")
    built = "from actiondesk.adapters.openai import OpenAIChatModel; from actiondesk.core.clock import SystemClock; "
    built += "OpenAIChatModel(model='m', api_key='k', base_url=None, timeout_seconds=1.0, clock=SystemClock())"
    assert "openai" in _imported_after(f"import {module}; {built}")
