"""The systems of the live-estate tests, each a real local HTTP server on port 0:

- ``Shop``: a small web service that exports ``http_requests_total{service, code}`` (prometheus_client) on
  /metrics, serves /pay, and is driven by a steady stream of requests from a client thread. The version it runs
  decides its answers: a bad version answers 500 to four requests in ten. POST /deploy {"version"} switches it
  (what a rollout does).
- ``FakeArgoCd``: Argo CD's application API (GET /api/v1/applications/{name}, POST .../rollback {"id"}) with bearer
  tokens and grpc-gateway errors; its history entries carry ``source.targetRevision`` (the version's tag). A sync
  or a rollback deploys the revision's version to the application's Shop over HTTP.
"""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CollectorRegistry, Counter, generate_latest

ARGO_TOKEN = "argocd-live-token"
REQUESTS_PER_SECOND = 50


class Shop:
    def __init__(self, service: str, version: str, bad: frozenset[str]) -> None:
        self.service = service
        self.version = version
        self.bad = bad
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "http_requests_total", "Requests served, by status code.", ["service", "code"], registry=self.registry
        )
        for code in ("200", "500"):  # exported from the start at 0, as a service should: a ratio needs both
            self.requests.labels(service=service, code=code)
        self._served = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.target = f"127.0.0.1:{self.server.server_address[1]}"
        self._threads = [
            threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True),
            threading.Thread(target=self._traffic, daemon=True),
        ]

    def start(self) -> Shop:
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self.server.shutdown()
        self.server.server_close()

    def answer(self) -> int:
        with self._lock:
            self._served += 1
            n, version = self._served, self.version
        failing = n % 10 < 4 if version in self.bad else n % 1000 == 0  # 40 % when bad, 0.1 % otherwise
        code = 500 if failing else 200
        self.requests.labels(service=self.service, code=str(code)).inc()
        return code

    def _traffic(self) -> None:
        """The shop's customers: a steady stream of /pay requests over one kept-alive connection."""
        host, port = self.server.server_address[:2]
        conn = http.client.HTTPConnection(str(host), int(port), timeout=5)
        while not self._stop.wait(1 / REQUESTS_PER_SECOND):
            try:
                conn.request("GET", "/pay")
                conn.getresponse().read()
            except OSError:
                conn.close()
                conn = http.client.HTTPConnection(str(host), int(port), timeout=5)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        shop = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def _send(self, code: int, body: bytes, content_type: str = "application/json") -> None:
                self.send_response(code)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                if self.path == "/metrics":
                    self._send(200, generate_latest(shop.registry), "text/plain; version=0.0.4")
                elif self.path == "/pay":
                    code = shop.answer()
                    self._send(code, json.dumps({"ok": code == 200, "version": shop.version}).encode())
                else:
                    self._send(404, b"{}")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                if self.path != "/deploy" or not isinstance(body.get("version"), str):
                    self._send(404, b"{}")
                    return
                with shop._lock:
                    shop.version = body["version"]
                self._send(200, json.dumps({"version": shop.version}).encode())

        return Handler


def deploy_to(shop_url: str, version: str) -> None:
    """What a rollout does to the running service: switch it to ``version`` (over HTTP)."""
    host, port = shop_url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=5)
    conn.request("POST", "/deploy", body=json.dumps({"version": version}), headers={"Content-Type": "application/json"})
    answer = conn.getresponse()
    answer.read()
    conn.close()
    if answer.status != 200:
        raise RuntimeError(f"the shop refused the deploy of {version}: {answer.status}")


@dataclass
class ArgoApp:
    name: str
    shop_url: str
    history: list[dict[str, Any]] = field(default_factory=list)
    revision: str = ""


class FakeArgoCd:
    def __init__(self) -> None:
        self.apps: dict[str, ArgoApp] = {}
        self.rollbacks: list[tuple[str, int]] = []
        self._lock = threading.Lock()

    def sync(self, name: str, revision: str, version: str, at: datetime | None = None) -> None:
        """Argo CD syncs ``revision`` (tagged ``version``): a history entry, and the version on the Shop."""
        app = self.apps[name]
        with self._lock:
            app.history.append(
                {
                    "id": len(app.history) + 1,
                    "revision": revision,
                    "deployedAt": (at or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "source": {"repoURL": f"https://git.example.com/shop/{name}.git", "targetRevision": version},
                }
            )
            app.revision = revision
        deploy_to(app.shop_url, version)

    def body(self, app: ArgoApp) -> dict[str, Any]:
        return {
            "metadata": {"name": app.name, "namespace": "argocd"},
            "spec": {"syncPolicy": {}},
            "status": {
                "sync": {"status": "Synced", "revision": app.revision},
                "health": {"status": "Healthy"},
                "history": list(app.history),
            },
        }

    def handle(self, method: str, path: str, body: Any) -> tuple[int, dict[str, Any]]:
        parts = [p for p in path.split("?")[0].split("/") if p]
        if parts[:3] != ["api", "v1", "applications"] or len(parts) < 4 or parts[3] not in self.apps:
            message = f'applications.argoproj.io "{parts[3] if len(parts) > 3 else ""}" not found'
            return 404, {"error": message, "code": 5, "message": message}
        app = self.apps[parts[3]]
        if method == "GET" and len(parts) == 4:
            return 200, self.body(app)
        if method == "POST" and parts[4:] == ["rollback"]:
            chosen = next((h for h in app.history if h["id"] == body.get("id")), None)
            if chosen is None:
                message = f"application {app.name} does not have deployment with id {body.get('id')}"
                return 404, {"error": message, "code": 5, "message": message}
            self.rollbacks.append((app.name, chosen["id"]))
            self.sync(app.name, chosen["revision"], chosen["source"]["targetRevision"])
            return 200, self.body(app)
        return 404, {"error": "Not Found", "code": 5, "message": "Not Found"}


@contextmanager
def fake_argocd() -> Iterator[tuple[str, FakeArgoCd]]:
    argo = FakeArgoCd()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def _serve(self, method: str) -> None:
            length = int(self.headers.get("Content-Length", 0))
            raw = self.rfile.read(length) if length else b""
            if self.headers.get("Authorization") != f"Bearer {ARGO_TOKEN}":
                code, answer = 401, {"error": "invalid session", "code": 16, "message": "invalid session"}
            else:
                code, answer = argo.handle(method, self.path, json.loads(raw) if raw else None)
            data = json.dumps(answer).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", argo
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
