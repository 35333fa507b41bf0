"""The Dockerfile: hadolint finds nothing; the image is multi-stage, slim, non-root, with a HEALTHCHECK, serves by
default and migrates as its own command; and, where this machine can build it (Debian's buildah or podman and
the base image at hand), the built image answers `actiondesk --help`."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sysconfig
from pathlib import Path

import pytest
from conftest import ROOT

DOCKERFILE = ROOT / "Dockerfile"
IMAGE = "localhost/actiondesk:test"


def _instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "") for line in lines]


def _stages() -> list[list[tuple[str, str]]]:
    stages: list[list[tuple[str, str]]] = []
    for instruction in _instructions():
        if instruction[0] == "FROM":
            stages.append([])
        if stages:
            stages[-1].append(instruction)
    return stages


def test_hadolint_finds_nothing() -> None:
    hadolint = Path(sysconfig.get_path("scripts")) / "hadolint"
    done = subprocess.run(
        [str(hadolint), "--failure-threshold", "style", "--format", "tty", "--no-color", str(DOCKERFILE)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_hadolint_would_catch_a_bad_dockerfile(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN pip install actiondesk\nCMD actiondesk serve\n")
    hadolint = Path(sysconfig.get_path("scripts")) / "hadolint"
    done = subprocess.run([str(hadolint), "--no-color", str(bad)], capture_output=True, text=True)
    assert done.returncode != 0
    assert "DL3007" in done.stdout  # latest tag


def test_two_stages_on_a_slim_base_and_nothing_to_build_with_in_the_last() -> None:
    build, runtime = _stages()
    base = dict(_instructions())["ARG"]
    assert base.startswith("PYTHON_IMAGE=python:3.11-slim")
    assert build[0] == ("FROM", "${PYTHON_IMAGE} AS build")
    assert runtime[0] == ("FROM", "${PYTHON_IMAGE}")
    final = " ".join(f"{word} {args}" for word, args in runtime)
    assert "COPY --from=build /opt/actiondesk /opt/actiondesk" in final
    for tool in ("apt-get install", "gcc", "build-essential", "pip install"):
        assert tool not in final, f"the runtime stage must not bring {tool}"
    assert "pip uninstall" in final, "pip itself leaves the runtime stage"


def test_it_runs_as_a_non_root_user_with_a_healthcheck_and_serves_by_default() -> None:
    runtime = dict(_stages()[-1])
    assert runtime["USER"] == "10001:10001"
    assert runtime["HEALTHCHECK"].endswith('CMD ["actiondesk", "healthcheck"]')
    assert runtime["ENTRYPOINT"] == '["actiondesk"]'
    assert runtime["CMD"] == '["serve", "--host", "0.0.0.0"]'
    assert runtime["EXPOSE"] == "8080"
    assert "ACTIONDESK_LOG_FORMAT=json" in runtime["ENV"]


def test_only_the_package_goes_into_the_build_context() -> None:
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert ignored[ignored.index("*")] == "*"
    assert {"!pyproject.toml", "!README.md", "!actiondesk/"} <= set(ignored)


def _engine() -> list[str]:
    for name in ("buildah", "podman"):
        found = shutil.which(name)
        if found:
            return [found]
    pytest.skip("no container engine here: neither Debian's buildah nor podman is installed")


def _run(command: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout)


def test_the_image_builds_and_answers_help() -> None:
    engine = _engine()
    buildah = Path(engine[0]).name == "buildah"
    base = dict(_instructions())["ARG"].split("=", 1)[1]
    have = _run([*engine, "inspect", "--type", "image", base] if buildah else [*engine, "image", "exists", base], 60)
    if have.returncode != 0:
        pulled = _run([*engine, "pull", base], 300)
        if pulled.returncode != 0:
            reason = (pulled.stderr.strip().splitlines() or ["no answer"])[-1]
            pytest.skip(
                f"cannot build here: the base image {base} is not in local storage and cannot be pulled ({reason})"
            )
    isolation = ["--isolation", "chroot"]  # this machine kind refuses the rlimits and cgroups of a runc container
    build = [*engine, "bud" if buildah else "build", *isolation, "--format", "docker", "--layers", "-t", IMAGE]
    built = _run([*build, "-f", str(DOCKERFILE), str(ROOT)], 1200)
    assert built.returncode == 0, built.stdout[-4000:] + built.stderr[-4000:]
    config = json.loads(_run([*engine, "inspect", *(["--type", "image"] if buildah else []), IMAGE], 60).stdout)
    docker = config["Docker"]["config"] if buildah else config[0]["Config"]
    assert docker["Healthcheck"]["Test"] == ["CMD", "actiondesk", "healthcheck"]
    assert docker["User"] == "10001:10001"
    if buildah:
        container = _run([*engine, "from", IMAGE], 120).stdout.strip()
        try:
            answer = _run([*engine, "run", *isolation, container, "--", "actiondesk", "--help"], 120)
        finally:
            _run([*engine, "rm", container], 60)
    else:
        answer = _run([*engine, "run", "--rm", IMAGE, "--help"], 120)
    assert answer.returncode == 0, answer.stderr
    assert "serve" in answer.stdout
    assert "healthcheck" in answer.stdout
