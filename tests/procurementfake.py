"""A local procurement API for the tests, held to ActionDesk's own OpenAPI document: every request it receives
and every response it sends is validated with openapi-core against procurement.openapi.yaml; a request that
does not validate is answered 400 and recorded in ``problems`` (a test asserts there are none).

Served by werkzeug on port 0 in a thread. ``outage = True`` answers 503 to everything.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from openapi_core import OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest, WerkzeugOpenAPIResponse
from openapi_core.exceptions import OpenAPIError
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from actiondesk.adapters.procurement import document


@dataclass
class FakeProcurement:
    token: str
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    outage: bool = False
    url: str = ""
    _numbers: Iterator[int] = field(default_factory=lambda: itertools.count(5001))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._api = OpenAPI.from_dict({**document(), "servers": [{"url": "/api/v1"}]})

    def _answer(self, status: int, body: Any) -> Response:
        return Response(json.dumps(body), status=status, content_type="application/json")

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        with self._lock:
            self.calls.append((request.method, request.full_path.rstrip("?")))
            response = self._handle(request)
        if response.status_code < 400:
            try:
                self._api.validate_response(WerkzeugOpenAPIRequest(request), WerkzeugOpenAPIResponse(response))
            except OpenAPIError as exc:
                self.problems.append(f"response to {request.method} {request.path}: {exc}")
        return response(environ, start_response)

    def _handle(self, request: Request) -> Response:
        if self.outage:
            return self._answer(503, {"error": "procurement is down for maintenance"})
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return self._answer(401, {"error": "unauthorised"})
        try:
            self._api.validate_request(WerkzeugOpenAPIRequest(request))
        except OpenAPIError as exc:
            self.problems.append(f"{request.method} {request.path}: {exc}")
            return self._answer(400, {"error": str(exc)})
        parts = [p for p in request.path.split("/") if p][2:]  # after /api/v1
        if parts == ["requests"] and request.method == "GET":
            found = [
                o
                for o in self.orders.values()
                if all(o[k] == request.args[k] for k in ("reference", "requested_for") if k in request.args)
            ]
            return self._answer(200, {"requests": found})
        if parts == ["requests"] and request.method == "POST":
            body = request.get_json()
            number = next(self._numbers)
            order = {**body, "id": f"r{number}", "number": f"PR-{number}", "status": "open"}
            self.orders[order["id"]] = order
            return self._answer(201, order)
        order = self.orders.get(parts[1]) if len(parts) >= 2 else None
        if order is None:
            return self._answer(404, {"error": "no such request"})
        if len(parts) == 3 and parts[2] == "cancel":
            order["status"] = "cancelled"
        return self._answer(200, order)

    def active(self) -> list[dict[str, Any]]:
        return [o for o in self.orders.values() if o["status"] != "cancelled"]


@contextmanager
def procurement_api(token: str = "procurement-test-token") -> Iterator[FakeProcurement]:
    fake = FakeProcurement(token)
    server = make_server("127.0.0.1", 0, fake, threaded=True)
    fake.url = f"http://127.0.0.1:{server.server_port}/api/v1"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        thread.join(timeout=10)
