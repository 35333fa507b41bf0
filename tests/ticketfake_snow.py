"""A local ServiceNow instance for the tests, following the Table API contract (../shared/CONTRACTS.md §3).

- /api/now/table/{table}[/{sys_id}] for incident, change_request and sys_journal_field: GET list 200
  {"result": [...]} with Link (first/prev/next/last) and X-Total-Count headers, GET one 200, POST 201,
  PATCH/PUT 200, DELETE 204; every value a string; reference fields {link, value} unless
  sysparm_exclude_reference_link=true; journal fields (work_notes, comments) append an entry to
  sys_journal_field on write and read back "".
- sysparm_query with =, !=, LIKE, IN, >=, > and ORDERBY / ORDERBYDESC; an unknown field is a 400 here
  (the real instance may ignore it silently, which would hide a typo in a test).
- sys_user_group (assignment groups, looked up by name); the Attachment API: POST
  /api/now/attachment/file?table_name&table_sys_id&file_name with the file as the body (201 {"result": meta}),
  GET /api/now/attachment?sysparm_query=... (metadata), GET /api/now/attachment/{sys_id}/file (the content).
- Basic auth, and OAuth client credentials at /oauth_token.do; errors as
  {"error": {"message", "detail"}, "status": "failure"}.
- Faults: ``fail(status, headers)`` answers the next requests so; ``server.down()`` refuses connections.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from ticketfake_http import ThreadedServer, serving

USER, PASSWORD = "actiondesk.bot", "snow-test-password"
CLIENT_ID, CLIENT_SECRET = "snow-client", "snow-client-secret"
REFERENCES = {"assignment_group", "parent", "rfc", "caller_id"}
JOURNAL = ("work_notes", "comments")
T0 = datetime(2026, 11, 25, 10, 0, 0, tzinfo=UTC)

TEMPLATES: dict[str, dict[str, str]] = {
    "incident": {
        "number": "", "state": "1", "short_description": "", "description": "", "correlation_id": "",
        "correlation_display": "", "assignment_group": "", "close_code": "", "close_notes": "", "work_notes": "",
        "comments": "", "impact": "3", "urgency": "3", "priority": "5", "active": "true", "rfc": "",
        "caller_id": "", "parent": "", "sys_mod_count": "0", "sys_created_by": "", "sys_created_on": "",
        "sys_updated_on": "", "sys_class_name": "incident",
    },
    "change_request": {
        "number": "", "state": "-5", "type": "normal", "short_description": "", "description": "",
        "correlation_id": "", "correlation_display": "", "assignment_group": "", "parent": "", "work_notes": "",
        "comments": "", "risk": "3", "priority": "4", "active": "true", "sys_mod_count": "0",
        "sys_created_by": "", "sys_created_on": "", "sys_updated_on": "", "sys_class_name": "change_request",
    },
    "sc_request": {
        "number": "", "request_state": "requested", "state": "1", "correlation_id": "", "correlation_display": "",
        "special_instructions": "", "requested_for": "", "active": "true", "sys_mod_count": "0",
        "sys_created_by": "", "sys_created_on": "", "sys_updated_on": "", "sys_class_name": "sc_request",
    },
    "sys_journal_field": {
        "element": "", "element_id": "", "name": "", "value": "", "sys_created_by": "", "sys_created_on": "",
    },
    "sys_user_group": {"name": "", "description": "", "active": "true"},
}  # fmt: skip
ATTACHMENT = {"table_name": "", "table_sys_id": "", "file_name": "", "content_type": "", "size_bytes": "",
              "sys_created_by": "", "sys_created_on": ""}  # fmt: skip
PREFIX = {"incident": "INC", "change_request": "CHG", "sc_request": "REQ"}
CATALOG = "/api/sn_sc/servicecatalog/"


def _error(status: int, message: str, detail: str | None = None) -> web.Response:
    body = {"error": {"message": message, "detail": detail}, "status": "failure"}
    return web.json_response(body, status=status)


@dataclass
class FakeServiceNow:
    tables: dict[str, dict[str, dict[str, str]]] = field(default_factory=lambda: {t: {} for t in TEMPLATES})
    requests: list[tuple[str, str, dict[str, str], Any]] = field(default_factory=list)
    faults: deque[tuple[int, dict[str, str], str | None]] = field(default_factory=deque)
    tokens: set[str] = field(default_factory=set)
    catalog_items: set[str] = field(default_factory=set)  # sys_ids of the Service Catalog's orderable items
    two_step: bool = False  # the instance's checkout: order_now puts the item in a cart, submit_order orders it
    cart: list[tuple[str, str]] = field(default_factory=list)
    ordered: list[tuple[str, str]] = field(default_factory=list)  # (catalog item, quantity) of each request
    attachments: dict[str, dict[str, str]] = field(default_factory=dict)  # sys_id -> metadata and "text"
    ticks: int = 0
    base_url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fail(
        self, status: int, headers: dict[str, str] | None = None, times: int = 1, method: str | None = None
    ) -> None:
        """Answer the next ``times`` requests (of ``method``, if given) with ``status``."""
        for _ in range(times):
            self.faults.append((status, headers or {}, method))

    def now(self) -> str:
        self.ticks += 1
        return (T0 + timedelta(seconds=self.ticks)).strftime("%Y-%m-%d %H:%M:%S")

    def writes(self) -> list[tuple[str, str, Any]]:
        return [(m, p, b) for m, p, _, b in self.requests if m in ("POST", "PATCH", "PUT")]

    def journal(self, sys_id: str) -> list[dict[str, str]]:
        rows = [r for r in self.tables["sys_journal_field"].values() if r["element_id"] == sys_id]
        return sorted(rows, key=lambda r: (r["sys_created_on"], int(r["sys_id"][-8:], 16)))

    def add_group(self, name: str) -> str:
        """An assignment group defined in the instance; returns its sys_id."""
        with self.lock:
            sys_id = secrets.token_hex(16)
            self.tables["sys_user_group"][sys_id] = {**TEMPLATES["sys_user_group"], "sys_id": sys_id, "name": name}
            return sys_id

    def files(self, sys_id: str) -> list[dict[str, str]]:
        return [a for a in self.attachments.values() if a["table_sys_id"] == sys_id]

    def add_comment(self, sys_id: str, text: str, user: str = "beth.anglin", element: str = "comments") -> None:
        """A person writes on the ticket in the ServiceNow UI."""
        with self.lock:
            self._journal("incident", sys_id, element, text, user)

    def _journal(self, table: str, sys_id: str, element: str, text: str, user: str) -> None:
        entry_id = secrets.token_hex(12) + f"{len(self.tables['sys_journal_field']):08x}"
        self.tables["sys_journal_field"][entry_id] = {
            **TEMPLATES["sys_journal_field"],
            "sys_id": entry_id,
            "element": element,
            "element_id": sys_id,
            "name": table,
            "value": text,
            "sys_created_by": user,
            "sys_created_on": self.now(),
        }

    # HTTP

    def _user(self, request: web.Request) -> str | None:
        header = request.headers.get("Authorization", "")
        if header.startswith("Basic "):
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
            return user if (user, password) == (USER, PASSWORD) else None
        if header.startswith("Bearer ") and header[7:] in self.tokens:
            return USER
        return None

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.text()
        with self.lock:
            parsed = json.loads(body) if body and request.content_type == "application/json" else body
            self.requests.append((request.method, request.path, dict(request.query), parsed))
            if self.faults and self.faults[0][2] in (None, request.method):
                status, headers, _ = self.faults.popleft()
                message = {400: "Invalid request", 429: "Too many requests"}.get(status, "Service unavailable")
                body = {"error": {"message": message, "detail": None}, "status": "failure"}
                return web.json_response(body, status=status, headers=headers)
            if request.path == "/oauth_token.do":
                return self._token(request, body)
            user = self._user(request)
            if user is None:
                return _error(401, "User Not Authenticated", "Required to provide Auth information")
            if request.headers.get("Accept") != "application/json":
                return _error(406, "Not Acceptable")
            if request.path.startswith(CATALOG):
                return self._catalog(request, parsed, user)
            parts = request.path.strip("/").split("/")
            if parts[:3] == ["api", "now", "attachment"]:
                return self._attachment(request, parts[3:], body, user)
            if parts[:3] != ["api", "now", "table"] or len(parts) not in (4, 5) or parts[3] not in self.tables:
                return _error(400, "Invalid table", request.path)
            table, sys_id = parts[3], (parts[4] if len(parts) == 5 else None)
            return self._table(request, table, sys_id, parsed, user)

    def _catalog(self, request: web.Request, body: Any, user: str) -> web.Response:
        """The Service Catalog API's Buy Item (order_now) and, for two-step checkout, the cart's submit_order."""
        rest = request.path.removeprefix(CATALOG).strip("/").split("/")
        if request.method != "POST":
            return _error(405, "Method not allowed")
        if rest == ["cart", "submit_order"]:
            if not self.cart:
                return _error(400, "Cart is empty")
            item, quantity = self.cart.pop(0)
            return web.json_response({"result": self._request(item, quantity, user)})
        if len(rest) != 3 or rest[0] != "items" or rest[2] != "order_now":
            return _error(400, "Invalid catalog path", request.path)
        if rest[1] not in self.catalog_items:
            return _error(404, "No Record found", f"no catalog item {rest[1]}")
        quantity = body.get("sysparm_quantity") if isinstance(body, dict) else None
        if not isinstance(quantity, str) or not quantity.isdigit() or not isinstance(body.get("variables", {}), dict):
            return _error(400, "Invalid request", "sysparm_quantity is a string of digits; variables an object")
        if self.two_step:
            self.cart.append((rest[1], quantity))
            return web.json_response({"result": {"cart_id": secrets.token_hex(16)}})
        return web.json_response({"result": self._request(rest[1], quantity, user)})

    def _request(self, item: str, quantity: str, user: str) -> dict[str, str]:
        rows = self.tables["sc_request"]
        sys_id, now = secrets.token_hex(16), self.now()
        number = f"REQ{10001 + len(rows):07d}"
        rows[sys_id] = {**TEMPLATES["sc_request"], "sys_id": sys_id, "number": number, "sys_created_by": user,
                        "sys_created_on": now, "sys_updated_on": now}  # fmt: skip
        self.ordered.append((item, quantity))
        return {"sys_id": sys_id, "number": number, "request_number": number, "request_id": sys_id,
                "table": "sc_request"}  # fmt: skip

    def _attachment(self, request: web.Request, rest: list[str], body: str, user: str) -> web.Response:
        query = dict(request.query)
        if request.method == "POST" and rest == ["file"]:
            table, target, name = query.get("table_name"), query.get("table_sys_id"), query.get("file_name")
            if not (table and target and name):
                return _error(400, "Invalid request", "table_name, table_sys_id and file_name are required")
            if target not in self.tables.get(table, {}):
                return _error(400, "Invalid table_sys_id", f"no {table} record {target}")
            sys_id = secrets.token_hex(16)
            meta = {**ATTACHMENT, "sys_id": sys_id, "table_name": table, "table_sys_id": target, "file_name": name,
                    "content_type": request.headers.get("Content-Type", ""), "size_bytes": str(len(body.encode())),
                    "sys_created_by": user, "sys_created_on": self.now(),
                    "download_link": f"{self.base_url}/api/now/attachment/{sys_id}/file"}  # fmt: skip
            self.attachments[sys_id] = {**meta, "text": body}
            return web.json_response({"result": meta}, status=201)
        if request.method == "GET" and not rest:
            rows = [{k: v for k, v in a.items() if k != "text"} for a in self.attachments.values()]
            try:
                rows = _filter(rows, query.get("sysparm_query", ""), {**ATTACHMENT, "download_link": ""})
            except KeyError as exc:
                return _error(400, "Invalid query", f"unknown field {exc}")
            return web.json_response({"result": rows[: int(query.get("sysparm_limit", "1000"))]})
        if request.method == "GET" and len(rest) == 2 and rest[1] == "file" and rest[0] in self.attachments:
            found = self.attachments[rest[0]]
            return web.Response(text=found["text"], content_type=found["content_type"].split(";")[0])
        return _error(404, "No Record found", "Record doesn't exist or ACL restricts the record retrieval")

    def _token(self, request: web.Request, body: str) -> web.Response:
        from urllib.parse import parse_qs

        form = {k: v[0] for k, v in parse_qs(body).items()}
        if (form.get("grant_type"), form.get("client_id"), form.get("client_secret")) != (
            "client_credentials", CLIENT_ID, CLIENT_SECRET,
        ):  # fmt: skip
            return web.json_response({"error_description": "access_denied", "error": "server_error"}, status=401)
        token = secrets.token_urlsafe(24)
        self.tokens.add(token)
        return web.json_response({"access_token": token, "scope": "useraccount", "token_type": "Bearer",
                                  "expires_in": 1799})  # fmt: skip

    def _shown(self, record: dict[str, str], query: dict[str, str], table: str) -> dict[str, Any]:
        fields = [f for f in query.get("sysparm_fields", "").split(",") if f] or list(record)
        plain = query.get("sysparm_exclude_reference_link") == "true"
        shown: dict[str, Any] = {}
        for name in fields:
            value = record.get(name, "")
            if name in JOURNAL:
                value = ""  # journal fields read back empty without display values
            if name in REFERENCES and value and not plain:
                target = "change_request" if name == "rfc" else "sys_user_group"
                value = {"link": f"{self.base_url}/api/now/table/{target}/{value}", "value": value}
            shown[name] = value
        return shown

    def _table(self, request: web.Request, table: str, sys_id: str | None, body: Any, user: str) -> web.StreamResponse:
        rows = self.tables[table]
        query = dict(request.query)
        if request.method == "GET" and sys_id is None:
            return self._list(table, query)
        if request.method == "POST" and sys_id is None:
            problem = _check_body(body, table)
            if problem:
                return _error(400, "Invalid request", problem)
            new_id = secrets.token_hex(16)
            now = self.now()
            number = f"{PREFIX.get(table, 'REC')}{10001 + len(rows):07d}"
            record = {**TEMPLATES[table], "sys_id": new_id, "number": number, "sys_created_by": user,
                      "sys_created_on": now, "sys_updated_on": now}  # fmt: skip
            self._write(table, record, body, user)
            rows[new_id] = record
            return web.json_response({"result": self._shown(record, query, table)}, status=201)
        if sys_id is None or sys_id not in rows:
            return _error(404, "No Record found", "Record doesn't exist or ACL restricts the record retrieval")
        record = rows[sys_id]
        if request.method == "GET":
            return web.json_response({"result": self._shown(record, query, table)})
        if request.method in ("PATCH", "PUT"):
            problem = _check_body(body, table)
            if problem:
                return _error(400, "Invalid request", problem)
            self._write(table, record, body, user)
            record["sys_mod_count"] = str(int(record["sys_mod_count"]) + 1)
            record["sys_updated_on"] = self.now()
            return web.json_response({"result": self._shown(record, query, table)})
        if request.method == "DELETE":
            del rows[sys_id]
            return web.Response(status=204)
        return _error(405, "Method not allowed")

    def _write(self, table: str, record: dict[str, str], body: dict[str, str], user: str) -> None:
        for name, value in body.items():
            if name in JOURNAL:
                if value:
                    self._journal(table, record["sys_id"], name, value, user)
            else:
                record[name] = value
        if record.get("state") in ("6", "7"):
            record["active"] = "false"

    def _list(self, table: str, query: dict[str, str]) -> web.Response:
        rows = list(self.tables[table].values())
        try:
            rows = _filter(rows, query.get("sysparm_query", ""), TEMPLATES[table])
        except KeyError as exc:
            return _error(400, "Invalid query", f"unknown field {exc}")
        total = len(rows)
        limit, offset = int(query.get("sysparm_limit", "10000")), int(query.get("sysparm_offset", "0"))
        page = rows[offset : offset + limit]
        headers = {"X-Total-Count": str(total), "Link": self._links(table, query, offset, limit, total)}
        return web.json_response({"result": [self._shown(r, query, table) for r in page]}, headers=headers)

    def _links(self, table: str, query: dict[str, str], offset: int, limit: int, total: int) -> str:
        def link(at: int, rel: str) -> str:
            q = urlencode({**query, "sysparm_offset": str(at), "sysparm_limit": str(limit)})
            return f'<{self.base_url}/api/now/table/{table}?{q}>;rel="{rel}"'

        last = max(0, (total - 1) // limit * limit) if total else 0
        links = [link(0, "first")]
        if offset > 0:
            links.append(link(max(0, offset - limit), "prev"))
        if offset + limit < total:
            links.append(link(offset + limit, "next"))
        links.append(link(last, "last"))
        return ",".join(links)


def _check_body(body: Any, table: str) -> str | None:
    if not isinstance(body, dict):
        return "the body must be a JSON object"
    for name, value in body.items():
        if name not in TEMPLATES[table]:
            return f"unknown field {name}"
        if not isinstance(value, str):
            return f"{name}: this fake wants string values, as the Table API returns them"
    return None


def _filter(rows: list[dict[str, str]], query: str, known: dict[str, str]) -> list[dict[str, str]]:
    order: list[tuple[str, bool]] = []
    for clause in [c for c in query.split("^") if c]:
        if clause.startswith("ORDERBYDESC"):
            order.append((clause[11:], True))
            continue
        if clause.startswith("ORDERBY"):
            order.append((clause[7:], False))
            continue
        for op in ("STARTSWITH", "!=", ">=", "<=", "LIKE", "IN", "=", ">", "<"):
            name, found, value = clause.partition(op)
            if found and name.isidentifier():
                break
        else:
            raise KeyError(clause)
        if name not in known and name != "sys_id":
            raise KeyError(name)
        rows = [r for r in rows if _match(r.get(name, ""), op, value)]
    for name, desc in reversed(order):
        rows.sort(key=lambda r: r.get(name, ""), reverse=desc)
    return rows


def _match(actual: str, op: str, value: str) -> bool:
    return {
        "=": actual == value,
        "!=": actual != value,
        "LIKE": value in actual,
        "STARTSWITH": actual.startswith(value),
        "IN": actual in value.split(","),
        ">=": actual >= value,
        "<=": actual <= value,
        ">": actual > value,
        "<": actual < value,
    }[op]


@contextmanager
def fake_servicenow() -> Iterator[tuple[ThreadedServer, FakeServiceNow]]:
    fake = FakeServiceNow()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", fake.handle)
    with serving(app) as server:
        fake.base_url = server.url
        yield server, fake
