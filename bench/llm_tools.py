"""Tokens per resolved case on the scenario suite with ACTIONDESK_PLANNER=llm: the tools triage made relevant
against the whole catalog, in the same run, against the same local OpenAI-compatible endpoint (an on-call
engineer's moves; prompt tokens are the request body's size / 4, the same measure for both)."""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "agents"))

from llmscript import ScriptedModel, operator

from actiondesk.adapters.sandbox import load_scenario
from actiondesk.adapters.store import SqlStore, make_engine, upgrade
from actiondesk.agents.llm import LlmPlanner, offered_specs
from actiondesk.bot.scenario.runner import run_scenario
from actiondesk.core.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


def _settings(url: str, base_url: str) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=url,
        planner="llm",
        openai_api_key="sk-bench-key-0123456789abcdef",
        openai_base_url=base_url,
        llm_model="scripted-1",
        autonomy={},
        granted_scopes={},
        runbook_dir=None,
    )


def suite(base_url: str) -> tuple[int, int, int]:
    """(resolved cases, their tokens, model calls) over every shipped scenario."""
    resolved = tokens = calls = 0
    for path in sorted((ROOT / "scenarios").glob("*.yaml")):
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite:///{Path(folder) / 'bench.db'}"
            upgrade(url)
            engine = make_engine(url)
            report = run_scenario(load_scenario(path), _settings(url, base_url), SqlStore(engine))
            engine.dispose()
        calls += report.llm_calls
        if report.status == "resolved":
            resolved += 1
            tokens += report.tokens
    return resolved, tokens, calls


def bench_llm_tools(row: Callable[..., None]) -> None:
    server = ScriptedModel().start()
    server.respond = operator
    try:
        narrowed = suite(server.base_url)
        with mock.patch.object(LlmPlanner, "tools", lambda self, finding: offered_specs(self.catalog, None)):
            whole = suite(server.base_url)
    finally:
        server.stop()
    assert not server.errors, server.errors
    per_case = narrowed[1] / max(narrowed[0], 1)
    baseline = whole[1] / max(whole[0], 1)
    print(
        f"  narrowed: {narrowed[0]} resolved, {narrowed[1]} tokens, {narrowed[2]} calls; "
        f"whole catalog: {whole[0]} resolved, {whole[1]} tokens, {whole[2]} calls"
    )
    row(
        "llm tokens/resolved (narrowed)",
        per_case,
        "tokens",
        "< whole catalog",
        narrowed[0] == whole[0] and per_case < baseline,
        baseline,
        "whole catalog",
    )
