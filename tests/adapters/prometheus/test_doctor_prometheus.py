"""`actiondesk doctor` against the session's real Prometheus (Debian's package), one behind a proxy that wants a
bearer token, and an address where nothing listens; in the live estate it runs every catalog query."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from promserver import LivePrometheus

TOKEN = "prom-reader-0123456789abcdef"


def doctor(cwd: Path, **env: str) -> tuple[int, dict, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("ACTIONDESK_", "OTEL_"))}
    base.update({"HOME": str(cwd), "DATABASE_URL": f"sqlite:///{cwd / 'a.db'}", **env})
    done = subprocess.run(
        [sys.executable, "-m", "actiondesk", "doctor", "--json"],
        cwd=cwd,
        env=base,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return done.returncode, json.loads(done.stdout), done.stdout + done.stderr


def system(report: dict, name: str) -> dict:
    return next(s for s in report["systems"] if s["system"] == name)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when the block ends: nothing listens there


@pytest.fixture
def guarded(prometheus: LivePrometheus) -> Iterator[str]:
    """The real Prometheus behind a proxy that answers 401 unless the request carries the bearer token."""

    class Proxy(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                self.send_response(401)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            upstream = httpx.get(f"{prometheus.url}{self.path}", timeout=5)
            self.send_response(upstream.status_code)
            self.send_header("Content-Type", upstream.headers.get("Content-Type", "application/json"))
            self.send_header("Content-Length", str(len(upstream.content)))
            self.end_headers()
            self.wfile.write(upstream.content)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_reachable_prometheus_is_ok_and_doctor_exits_0(prometheus: LivePrometheus, tmp_path: Path) -> None:
    code, report, output = doctor(tmp_path, ACTIONDESK_PROMETHEUS_URL=prometheus.url)
    assert code == 0, output
    prom = system(report, "Prometheus")
    assert prom["status"] == "ok"
    assert prom["reachable"] is True
    assert "prometheus:read" in prom["scopes"]
    assert report["usable"] is True


def test_an_unreachable_prometheus_is_unusable_and_doctor_exits_1(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    code, report, output = doctor(tmp_path, ACTIONDESK_PROMETHEUS_URL=url)
    assert code == 1, output
    prom = system(report, "Prometheus")
    assert prom["status"] == "unusable"
    assert prom["reachable"] is False
    assert "unreachable" in prom["detail"][0]


def test_a_refused_credential_is_unusable_and_the_right_one_is_accepted(guarded: str, tmp_path: Path) -> None:
    code, report, _ = doctor(tmp_path, ACTIONDESK_PROMETHEUS_URL=guarded)
    assert code == 1
    assert system(report, "Prometheus")["credentials"] == "refused (401)"
    credentials = json.dumps({"prometheus": TOKEN})
    code, report, output = doctor(tmp_path, ACTIONDESK_PROMETHEUS_URL=guarded, ACTIONDESK_PACK_CREDENTIALS=credentials)
    assert code == 0, output
    assert system(report, "Prometheus")["credentials"] == "accepted"
    assert TOKEN not in output


def test_in_the_live_estate_every_catalog_query_is_run(prometheus: LivePrometheus, tmp_path: Path) -> None:
    catalog = tmp_path / "services.yaml"
    catalog.write_text(
        "services:\n"
        "  web:\n"
        "    tier: 1\n"
        "    environment: production\n"
        "    signals:\n"
        '      error_rate: sum(rate(actiondesk_test_requests_total{service="{service}",code=~"5.."}[{window}]))\n'
        "      saturation: sum(rate(actiondesk_test_requests_total[{window}]\n"
        "  worker: {tier: 2, environment: production}\n",
        encoding="utf-8",
    )
    env = {
        "ACTIONDESK_PROMETHEUS_URL": prometheus.url,
        "ACTIONDESK_ESTATE": "live",
        "ACTIONDESK_SERVICES_FILE": str(catalog),
    }
    code, report, output = doctor(tmp_path, **env)
    assert code == 0, output  # a bad query is a warning: Prometheus itself works
    prom = system(report, "Prometheus")
    assert prom["status"] == "warning"
    refused = next(d for d in prom["detail"] if d.startswith("catalog queries Prometheus refuses"))
    assert "web.saturation" in refused
    assert "web.error_rate" not in refused
    assert any("worker.latency_p95" in d for d in prom["detail"] if d.startswith("no data yet"))
    assert system(report, "Service catalog")["status"] == "ok"
    assert system(report, "Change events")["status"] == "warning"  # live, and no door for changes is open


def test_a_broken_catalog_makes_doctor_exit_1_naming_file_and_line(tmp_path: Path) -> None:
    catalog = tmp_path / "services.yaml"
    catalog.write_text("services:\n  web: {tier: 1}\n", encoding="utf-8")
    code, report, _ = doctor(tmp_path, ACTIONDESK_ESTATE="live", ACTIONDESK_SERVICES_FILE=str(catalog))
    assert code == 1
    assert f"{catalog}:2: services.web.environment" in system(report, "Service catalog")["detail"][0]
