"""A real Prometheus (Debian's `prometheus` package), started once per session on a free port with a temporary
config and storage, scraping a local exporter the session also starts. Skipped with a reason when the binary
is absent, unless ACTIONDESK_REQUIRE_PROMETHEUS=1 (CI), which fails instead."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from promserver import LivePrometheus

EXPOSITION = """# HELP actiondesk_test_requests_total Requests served, by status code.
# TYPE actiondesk_test_requests_total counter
actiondesk_test_requests_total{service="web",code="200"} 1200
actiondesk_test_requests_total{service="web",code="500"} 42
# HELP actiondesk_test_queue_depth Jobs waiting.
# TYPE actiondesk_test_queue_depth gauge
actiondesk_test_queue_depth{service="worker"} 7
"""


class _Exporter(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        body = EXPOSITION.encode()
        self.send_response(200 if self.path == "/metrics" else 404)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(check: object, what: str, proc: subprocess.Popen[bytes], log: Path, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"prometheus exited with {proc.returncode}: {log.read_text()[-2000:]}")
        try:
            if check():  # type: ignore[operator]
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)  # polling the server's own readiness, not guessing a delay
    pytest.fail(f"prometheus never became {what}: {log.read_text()[-2000:]}")


@pytest.fixture(scope="session")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LivePrometheus]:
    binary = shutil.which("prometheus")
    if binary is None:
        reason = "the prometheus binary is not installed (apt-get install prometheus)"
        if os.environ.get("ACTIONDESK_REQUIRE_PROMETHEUS") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    exporter = ThreadingHTTPServer(("127.0.0.1", 0), _Exporter)
    threading.Thread(target=exporter.serve_forever, args=(0.05,), daemon=True).start()
    target = f"127.0.0.1:{exporter.server_address[1]}"
    home = tmp_path_factory.mktemp("prometheus")
    config = home / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        "scrape_configs:\n"
        f"  - job_name: exporter\n    static_configs: [{{targets: ['{target}']}}]\n"
    )
    port = _free_port()
    log = home / "prometheus.log"
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
    try:
        _wait(lambda: httpx.get(f"{url}/-/ready", timeout=2).status_code == 200, "ready", proc, log)

        def three_scrapes() -> bool:
            body = httpx.get(f"{url}/api/v1/query", params={"query": "count_over_time(up[1m])"}, timeout=2).json()
            result = body.get("data", {}).get("result", [])
            return bool(result) and float(result[0]["value"][1]) >= 3

        _wait(three_scrapes, "scraped three times", proc, log)
        yield LivePrometheus(url=url, exporter=target)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        exporter.shutdown()
        exporter.server_close()
