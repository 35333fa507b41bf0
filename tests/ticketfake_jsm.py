"""A local Jira Service Management site for the tests, following ../shared/CONTRACTS.md §4.

- JSM (servicedeskapi): POST /request → 201 CustomerRequestDTO; GET /request (searchTerm, serviceDeskId,
  requestOwnership) and GET /request/{key}/comment, both paged {size, start, limit, isLastPage, _links,
  values}; POST /request/{key}/comment with a string ``body`` and a required ``public`` → 201.
- Platform v3: GET /issue/{key}?fields=status,attachment; GET /issue/{key}/transitions (ids per workflow,
  made up here so that a hard-coded id fails); POST transitions with an ADF comment → 204 (a string body is a
  400); POST /issue/{key}/attachments, multipart with a ``file`` part and ``X-Atlassian-Token: no-check``
  (else 403, Jira's XSRF check) → 200 [Attachment] (checked by hand: the document's multipart schema is not
  one a validator can apply).
- Basic auth (email + API token); errors as ErrorCollection {"errorMessages", "errors"}.
- Every request is validated against the OpenAPI documents of tests/data/jira/openapi (written from Atlassian's
  REST reference for the operations used) and, when a checkout has them, the published ones in
  ../shared/fixtures/jira/openapi too; what does not validate is answered 400 and kept in ``invalid``.
- Faults: ``fail(status, headers)`` answers the next requests so; ``server.down()`` refuses connections.
"""

from __future__ import annotations

import base64
import json
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from fixturefiles import DATA, SHARED
from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_core.exceptions import OpenAPIError
from openapi_core.validation.request.validators import V30RequestBodyValidator, V30RequestParametersValidator
from ticketfake_http import ThreadedServer, serving
from werkzeug.datastructures import Headers, ImmutableMultiDict

OPENAPI = DATA / "jira" / "openapi"
PUBLISHED = SHARED / "jira" / "openapi"
EMAIL, TOKEN = "actiondesk@example.com", "jsm-test-api-token"
DESK, REQUEST_TYPE = "10", "25"
USED = {
    "jsm": {
        "/rest/servicedeskapi/request",
        "/rest/servicedeskapi/request/{issueIdOrKey}/comment",
    },
    "jira-platform": {
        "/rest/api/3/issue/{issueIdOrKey}",
        "/rest/api/3/issue/{issueIdOrKey}/transitions",
    },
}
WORKFLOW = [("761", "In Progress", "indeterminate"), ("931", "Resolve", "done"), ("951", "Cancel", "done")]


class _Request:
    """An aiohttp request as openapi-core's Request protocol."""

    def __init__(self, request: web.Request, body: bytes, host_url: str) -> None:
        self.host_url = host_url
        self.path = request.path
        self.method = request.method.lower()
        self.body = body or None
        self.content_type = request.headers.get("Content-Type", "")
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(list(request.query.items())),
            header=Headers(dict(request.headers)),
            cookie=ImmutableMultiDict(),
        )


DOCUMENTS = [(OPENAPI / "jsm.json", "jsm"), (OPENAPI / "jira-platform.json", "jira-platform")]
PUBLISHED_DOCUMENTS = [
    (PUBLISHED / "jsm.swagger.v3.json", "jsm"),
    (PUBLISHED / "jira-platform.swagger-v3.v3.json", "jira-platform"),
]


def load_validators(base_url: str) -> list[OpenAPI]:
    """Body and parameter validators for the operations the adapter uses (security is not checked: the JSM
    document declares OAuth2 only, while its own examples and Jira Cloud accept basic auth): our own documents,
    and the published ones as well when they are there."""
    apis = []
    published = [(path, kind) for path, kind in PUBLISHED_DOCUMENTS if path.exists()]
    for path, kind in DOCUMENTS + published:
        paths = USED[kind]
        spec = json.loads(path.read_text())
        spec = {**spec, "paths": {p: v for p, v in spec["paths"].items() if p in paths}, "servers": [{"url": base_url}]}
        for cls in (V30RequestBodyValidator, V30RequestParametersValidator):
            apis.append(OpenAPI.from_dict(spec, config=Config(spec_validator_cls=None, request_validator_cls=cls)))
    return apis


def _error(status: int, *messages: str, **errors: str) -> web.Response:
    return web.json_response({"errorMessages": list(messages), "errors": errors}, status=status)


def _date(n: int) -> dict[str, Any]:
    millis = 1764064800000 + n * 1000
    return {"iso8601": "2026-11-25T10:00:00+0000", "jira": "2026-11-25T10:00:00.000+0000",
            "friendly": "Today 10:00 AM", "epochMillis": millis}  # fmt: skip


def _user(email: str, name: str) -> dict[str, Any]:
    return {"accountId": f"5b10ac8d82e05b22cc7d4e{abs(hash(email)) % 1000:03d}", "emailAddress": email,
            "displayName": name, "active": True, "timeZone": "Etc/UTC"}  # fmt: skip


@dataclass
class FakeJsm:
    issues: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[tuple[str, str, dict[str, str], Any]] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)
    faults: deque[tuple[int, dict[str, str]]] = field(default_factory=deque)
    validators: list[OpenAPI] | None = None
    base_url: str = ""
    comment_ids: int = 10000
    workflow: list[tuple[str, str, str]] = field(default_factory=lambda: list(WORKFLOW))  # (id, name, category)
    attachment_ids: int = 30000
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fail(self, status: int, headers: dict[str, str] | None = None, times: int = 1) -> None:
        for _ in range(times):
            self.faults.append((status, headers or {}))

    def writes(self) -> list[tuple[str, str, Any]]:
        return [(m, p, b) for m, p, _, b in self.requests if m == "POST"]

    def add_comment(self, key: str, text: str, email: str = "fred@example.com", public: bool = True) -> None:
        """A person comments on the request in Jira."""
        with self.lock:
            self._comment(key, text, public, _user(email, "Fred F. User"))

    def _comment(self, key: str, text: str, public: bool, author: dict[str, Any]) -> dict[str, Any]:
        self.comment_ids += 1
        link = f"{self.base_url}/rest/servicedeskapi/request/{key}/comment/{self.comment_ids}"
        comment = {"id": str(self.comment_ids), "body": text, "public": public, "author": author,
                   "created": _date(self.comment_ids), "_links": {"self": link}}  # fmt: skip
        self.issues[key]["comments"].append(comment)
        return comment

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if request.path.endswith("/attachments") and request.method == "POST":
            return await self._upload(request)
        raw = await request.read()
        with self.lock:
            body = json.loads(raw) if raw else None
            self.requests.append((request.method, request.path, dict(request.query), body))
            if self.faults:
                status, headers = self.faults.popleft()
                return web.json_response({"errorMessages": ["Rate limit exceeded."] if status == 429 else [],
                                          "errors": {}}, status=status, headers=headers)  # fmt: skip
            if (
                request.headers.get("Authorization")
                != "Basic " + base64.b64encode(f"{EMAIL}:{TOKEN}".encode()).decode()
            ):
                return _error(401, "Client must be authenticated to access this resource.")
            problem = self._validate(request, raw)
            if problem:
                self.invalid.append(f"{request.method} {request.path}: {problem}")
                return _error(400, problem)
            return self._route(request, body)

    def _validate(self, request: web.Request, raw: bytes) -> str | None:
        if self.validators is None:
            return None
        matched = False
        for api in self.validators:
            try:
                api.validate_request(_Request(request, raw, self.base_url))
            except OpenAPIError as exc:
                if "PathNotFound" in type(exc).__name__ or "OperationNotFound" in type(exc).__name__:
                    continue  # the other document's operation
                causes = [str(exc), *(str(e) for e in getattr(exc.__cause__, "schema_errors", []) or [])]
                return "; ".join(causes)
            matched = True
        return None if matched else "no such operation in the OpenAPI documents"

    def _route(self, request: web.Request, body: Any) -> web.StreamResponse:
        parts = request.path.strip("/").split("/")
        method = request.method
        if parts[:3] == ["rest", "servicedeskapi", "request"]:
            if len(parts) == 3:
                return self._create(body) if method == "POST" else self._search(request)
            key = parts[3]
            if key not in self.issues:
                return _error(404, "The request could not be found.")
            if parts[4:] == ["comment"]:
                return self._add(key, body) if method == "POST" else self._page(request, self.issues[key]["comments"])
        if parts[:4] == ["rest", "api", "3", "issue"] and len(parts) >= 5:
            key = parts[4]
            if key not in self.issues:
                return _error(404, "Issue does not exist or you do not have permission to see it.")
            issue = self.issues[key]
            if len(parts) == 5 and method == "GET":
                status = {"name": issue["status"], "statusCategory": {"key": issue["category"]}}
                fields: dict[str, Any] = {"status": status}
                if "attachment" in request.query.get("fields", "").split(","):
                    fields = {"attachment": [{k: v for k, v in a.items() if k != "text"} for a in issue["files"]]}
                return web.json_response({"id": issue["id"], "key": key, "fields": fields})
            if parts[5:] == ["transitions"]:
                return self._transition(key, body) if method == "POST" else self._transitions(key)
        return _error(404, "Not found")

    def _create(self, body: dict[str, Any]) -> web.Response:
        if (body.get("serviceDeskId"), body.get("requestTypeId")) != (DESK, REQUEST_TYPE):
            return _error(400, "The request type is not valid for this service desk.")
        fields = body.get("requestFieldValues") or {}
        if not isinstance(fields.get("summary"), str) or not fields["summary"]:
            return _error(400, summary="You must specify a summary of the issue.")
        key = f"ITSM-{len(self.issues) + 1}"
        self.issues[key] = {"id": str(20000 + len(self.issues)), "summary": fields["summary"],
                            "description": fields.get("description", ""), "status": "Waiting for support",
                            "category": "new", "comments": [], "files": []}  # fmt: skip
        return web.json_response(self._dto(key), status=201)

    def _dto(self, key: str) -> dict[str, Any]:
        issue = self.issues[key]
        return {
            "_expands": ["participant", "status", "sla", "requestType", "serviceDesk", "attachment", "action",
                         "comment"],
            "issueId": issue["id"], "issueKey": key, "requestTypeId": REQUEST_TYPE, "serviceDeskId": DESK,
            "createdDate": _date(0), "reporter": _user(EMAIL, "ActionDesk"),
            "requestFieldValues": [
                {"fieldId": "summary", "label": "What do you need?", "value": issue["summary"]},
                {"fieldId": "description", "label": "Why do you need this?", "value": issue["description"]},
            ],
            "currentStatus": {"status": issue["status"], "statusCategory": issue["category"].upper(),
                              "statusDate": _date(0)},
            "_links": {"jiraRest": f"{self.base_url}/rest/api/2/issue/{issue['id']}",
                       "web": f"{self.base_url}/servicedesk/customer/portal/{DESK}/{key}",
                       "self": f"{self.base_url}/rest/servicedeskapi/request/{issue['id']}"},
        }  # fmt: skip

    def _search(self, request: web.Request) -> web.Response:
        term = request.query.get("searchTerm", "")
        found = [self._dto(k) for k, i in self.issues.items() if term.casefold() in i["summary"].casefold()]
        return self._page(request, found)

    def _page(self, request: web.Request, values: list[dict[str, Any]]) -> web.Response:
        start, limit = int(request.query.get("start", "0")), int(request.query.get("limit", "50"))
        page = values[start : start + limit]
        last = start + limit >= len(values)
        base = f"{self.base_url}{request.path}"
        links = {"base": f"{self.base_url}/rest/servicedeskapi", "context": ""}
        if not last:
            links["next"] = f"{base}?start={start + limit}&limit={limit}"
        if start:
            links["prev"] = f"{base}?start={max(0, start - limit)}&limit={limit}"
        return web.json_response({"_expands": [], "size": len(page), "start": start, "limit": limit,
                                  "isLastPage": last, "_links": links, "values": page})  # fmt: skip

    def _add(self, key: str, body: dict[str, Any]) -> web.Response:
        if not isinstance(body.get("body"), str):
            return _error(400, "The comment body must be a string.")
        if "public" not in body:
            return _error(400, "The 'public' field is required.")
        return web.json_response(
            self._comment(key, body["body"], bool(body["public"]), _user(EMAIL, "ActionDesk")), status=201
        )

    async def _upload(self, request: web.Request) -> web.Response:
        """POST /rest/api/3/issue/{key}/attachments: multipart ``file`` parts, XSRF check off."""
        key = request.path.strip("/").split("/")[4]
        expected = "Basic " + base64.b64encode(f"{EMAIL}:{TOKEN}".encode()).decode()
        parts: list[tuple[str, str, str]] = []
        if request.content_type == "multipart/form-data":
            reader = await request.multipart()
            while (part := await reader.next()) is not None:
                if part.name == "file":  # type: ignore[union-attr]
                    text = (await part.read()).decode()  # type: ignore[union-attr]
                    parts.append((part.filename or "", part.headers.get("Content-Type", ""), text))  # type: ignore[union-attr]
        with self.lock:
            self.requests.append((request.method, request.path, dict(request.query), [p[0] for p in parts]))
            if self.faults:
                status, headers = self.faults.popleft()
                return web.json_response({"errorMessages": [], "errors": {}}, status=status, headers=headers)
            if request.headers.get("Authorization") != expected:
                return _error(401, "Client must be authenticated to access this resource.")
            if request.headers.get("X-Atlassian-Token") != "no-check":
                return _error(403, "XSRF check failed")
            if key not in self.issues:
                return _error(404, "Issue does not exist or you do not have permission to see it.")
            if not parts:
                return _error(400, "No file part named 'file' in the request.")
            made = []
            for name, content_type, text in parts:
                self.attachment_ids += 1
                link = f"{self.base_url}/rest/api/3/attachment/{self.attachment_ids}"
                item = {"id": str(self.attachment_ids), "filename": name, "mimeType": content_type,
                        "size": len(text.encode()), "self": link, "text": text}  # fmt: skip
                self.issues[key]["files"].append(item)
                made.append({k: v for k, v in item.items() if k != "text"})
            return web.json_response(made)

    def _transitions(self, key: str) -> web.Response:
        issue = self.issues[key]
        available = [] if issue["category"] == "done" else self.workflow
        return web.json_response({"expand": "transitions", "transitions": [
            {"id": i, "name": n, "to": {"name": n, "statusCategory": {"key": c}}, "hasScreen": False, "isGlobal": True,
             "isInitial": False, "isAvailable": True, "isConditional": False, "isLooped": False}
            for i, n, c in available
        ]})  # fmt: skip

    def _transition(self, key: str, body: dict[str, Any]) -> web.Response:
        issue = self.issues[key]
        wanted = (body.get("transition") or {}).get("id")
        match = next(((i, n, c) for i, n, c in self.workflow if i == wanted), None)
        if match is None or issue["category"] == "done":
            return _error(400, f"Transition id '{wanted}' is not valid for this issue.")
        for item in (body.get("update") or {}).get("comment", []):
            doc = (item.get("add") or {}).get("body")
            if not isinstance(doc, dict) or doc.get("type") != "doc" or doc.get("version") != 1:
                return _error(400, comment="Comment body is not valid Atlassian Document Format.")
            text = "\n".join(t.get("text", "") for p in doc.get("content", []) for t in p.get("content", []))
            self._comment(key, text, True, _user(EMAIL, "ActionDesk"))
        issue["status"], issue["category"] = match[1], match[2]
        return web.Response(status=204)


@contextmanager
def fake_jsm() -> Iterator[tuple[ThreadedServer, FakeJsm]]:
    fake = FakeJsm()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", fake.handle)
    with serving(app) as server:
        fake.base_url = server.url
        fake.validators = load_validators(server.url)
        yield server, fake
