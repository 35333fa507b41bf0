"""The live estate's test stack, started once per module: two shop services (shop.py) and a real Prometheus
(Debian's package) scraping them every second, so a rate over a few seconds tells a healthy service from a
failing one within the test. Skipped with a reason when the binary is absent, unless
ACTIONDESK_REQUIRE_PROMETHEUS=1 (CI), which fails instead."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import httpx
import pytest
from livesystems import free_port, stop, wait_until
from shop import Shop

SERVICES = {"payment-gateway": "v2.4.1", "checkout": "v3.0.2"}  # each shop and the version it starts on
BAD = frozenset({"v2.5.0", "v3.1.0"})


@dataclass
class Stack:
    prometheus: str
    shops: dict[str, Shop]

    def ratio(self, service: str, seconds: int = 6) -> list[float]:
        """The service's 5xx share over the last ``seconds``, one value a second, as Prometheus reads it now."""
        query = (
            f'sum(rate(http_requests_total{{service="{service}",code=~"5.."}}[3s]))'
            f' / sum(rate(http_requests_total{{service="{service}"}}[3s]))'
        )
        end = time.time()
        body = httpx.get(
            f"{self.prometheus}/api/v1/query_range",
            params={"query": query, "start": end - seconds, "end": end, "step": 1},
            timeout=5,
        ).json()
        result = body["data"]["result"]
        return [float(v) for _, v in result[0]["values"]] if result else []

    def wait_for(self, check: Callable[[], bool], what: str, seconds: float = 30.0) -> None:
        """Poll Prometheus' own answers until ``check`` holds (never a guessed delay)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if check():
                return
            time.sleep(0.2)
        raise AssertionError(f"Prometheus never showed {what}")


def _prometheus(home: Path, targets: list[str]) -> tuple[str, subprocess.Popen[bytes]]:
    binary = shutil.which("prometheus")
    if binary is None:
        reason = "the prometheus binary is not installed (apt-get install prometheus)"
        if os.environ.get("ACTIONDESK_REQUIRE_PROMETHEUS") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    config = home / "prometheus.yml"
    listed = ", ".join(f"'{t}'" for t in targets)
    config.write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        f"scrape_configs:\n  - job_name: shop\n    static_configs: [{{targets: [{listed}]}}]\n"
    )
    log = home / "prometheus.log"
    port = free_port()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                binary,
                f"--config.file={config}",
                f"--storage.tsdb.path={home / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--log.level=warn",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    wait_until(lambda: httpx.get(f"{url}/-/ready", timeout=2).status_code == 200, "prometheus", proc, log, 60)
    return url, proc


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    shops = {name: Shop(name, version, BAD).start() for name, version in SERVICES.items()}
    proc = None
    try:
        url, proc = _prometheus(tmp_path_factory.mktemp("prometheus"), [s.target for s in shops.values()])
        live = Stack(url, shops)
        for name in shops:  # a baseline to judge against: a few seconds of healthy traffic, as Prometheus saw it
            live.wait_for(lambda name=name: len(live.ratio(name, 10)) >= 5, f"{name}'s first requests")
        yield live
    finally:
        if proc is not None:
            stop(proc)
        for shop in shops.values():
            shop.stop()


def sibling(name: str, folder: str) -> ModuleType:
    """A helper of another test folder (tests/<folder>/<name>.py, e.g. adapters/kubernetes), loaded by its path."""
    if name in sys.modules:
        return sys.modules[name]
    path = Path(__file__).resolve().parents[1] / folder / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def free_port_url() -> str:
    """A loopback URL nothing listens on (the port was free a moment ago)."""
    return f"http://127.0.0.1:{free_port()}"
