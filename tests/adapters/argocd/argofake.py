"""A local Argo CD API server for the tests, following its REST contract (grpc-gateway JSON): GET
/api/v1/applications/{name} with status.sync, status.health and status.history; POST .../rollback with
{"id", "prune", "dryRun"}, refused while auto-sync is on; bearer tokens; {"error", "code", "message"} errors."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOKEN = "argocd-test-token"
REVISIONS = ["1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b", "2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c"]


class FakeArgo:
    def __init__(self) -> None:
        self.auto_sync = False
        self.requests: list[tuple[str, str]] = []
        self.apps: dict[str, dict[str, Any]] = {
            "checkout": {
                "metadata": {"name": "checkout", "namespace": "argocd"},
                "spec": {"syncPolicy": {}},
                "status": {
                    "sync": {"status": "Synced", "revision": REVISIONS[1]},
                    "health": {"status": "Healthy"},
                    "history": [
                        {"id": 0, "revision": REVISIONS[0], "deployedAt": "2026-11-24T10:00:00Z"},
                        {"id": 1, "revision": REVISIONS[1], "deployedAt": "2026-11-25T10:00:00Z"},
                    ],
                },
            }
        }

    def deploy(self, name: str, revision: str) -> None:
        status = self.apps[name]["status"]
        status["history"].append(
            {"id": len(status["history"]), "revision": revision, "deployedAt": "2026-11-25T11:00:00Z"}
        )
        status["sync"] = {"status": "Synced", "revision": revision}

    def handle(self, method: str, path: str, body: Any) -> tuple[int, dict[str, Any]]:
        parts = [p for p in path.split("/") if p]
        if parts[:3] != ["api", "v1", "applications"] or len(parts) < 4:
            return 404, {"error": "Not Found", "code": 5, "message": "Not Found"}
        app = self.apps.get(parts[3])
        if app is None:
            return 404, {
                "error": f'applications.argoproj.io "{parts[3]}" not found',
                "code": 5,
                "message": f'applications.argoproj.io "{parts[3]}" not found',
            }
        if method == "GET" and len(parts) == 4:
            return 200, app
        if method == "POST" and parts[4:] == ["rollback"]:
            if self.auto_sync:
                message = "rollback cannot be initiated when auto-sync is enabled"
                return 400, {"error": message, "code": 9, "message": message}
            chosen = next((h for h in app["status"]["history"] if h["id"] == body.get("id")), None)
            if chosen is None:
                message = f"application {parts[3]} does not have deployment with id {body.get('id')}"
                return 404, {"error": message, "code": 5, "message": message}
            if not body.get("dryRun"):
                status = app["status"]
                status["history"].append(
                    {
                        "id": max(h["id"] for h in status["history"]) + 1,
                        "revision": chosen["revision"],
                        "deployedAt": "2026-11-25T12:00:00Z",
                    }
                )
                status["sync"] = {"status": "OutOfSync", "revision": chosen["revision"]}
            return 200, app
        return 404, {"error": "Not Found", "code": 5, "message": "Not Found"}


@contextmanager
def fake_argocd() -> Iterator[tuple[str, FakeArgo]]:
    argo = FakeArgo()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def _serve(self, method: str) -> None:
            argo.requests.append((method, self.path))
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                code, answer = (
                    401,
                    {"error": "invalid session", "code": 16, "message": "invalid session: token is invalid"},
                )
            else:
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length)) if length else None
                code, answer = argo.handle(method, self.path, body)
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
