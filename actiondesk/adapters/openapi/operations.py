"""OpenApiOperations: build the request for an operationId, validate it against the document, then send it.

The request object that is validated is the very httpx.Request that is sent, so what leaves the process is
what was checked. A request that does not validate raises InvalidParametersError and never reaches the network.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_core.exceptions import OpenAPIError
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError
from pydantic import JsonValue
from werkzeug.datastructures import Headers, ImmutableMultiDict

from actiondesk.core.errors import (
    ActionFailedError,
    ConfigurationError,
    InvalidParametersError,
    NotFoundError,
    SystemUnavailableError,
)
from actiondesk.core.retry import retry_after_seconds
from actiondesk.core.systems import HttpResult

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Document:
    """One pack's OpenAPI document, where its API lives, and the pack's service-account token."""

    spec: dict[str, Any]
    base_url: str
    token: str | None = None


class _Request:
    """An httpx.Request as openapi-core's Request protocol."""

    def __init__(self, request: httpx.Request, base_url: str) -> None:
        self._request = request
        self._base = httpx.URL(base_url)
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(list(request.url.params.multi_items())),
            header=Headers(dict(request.headers)),
            cookie=ImmutableMultiDict(),
        )

    @property
    def host_url(self) -> str:
        return f"{self._request.url.scheme}://{self._request.url.netloc.decode()}"

    @property
    def path(self) -> str:
        return self._request.url.raw_path.decode().split("?", 1)[0]

    @property
    def method(self) -> str:
        return self._request.method.lower()

    @property
    def body(self) -> bytes | None:
        return self._request.content or None

    @property
    def content_type(self) -> str:
        return str(self._request.headers.get("Content-Type", ""))


def _problem(exc: BaseException) -> str:
    """The innermost messages of an openapi-core validation error, for a planner to act on."""
    messages = [str(exc)]
    for inner in getattr(exc, "schema_errors", None) or []:
        messages.append(getattr(inner, "message", str(inner)))
    cause = exc.__cause__
    while cause is not None:
        messages.append(str(cause))
        for inner in getattr(cause, "schema_errors", None) or []:
            messages.append(getattr(inner, "message", str(inner)))
        cause = cause.__cause__
    return "; ".join(dict.fromkeys(m for m in messages if m))


class OpenApiOperations:
    def __init__(self, documents: dict[str, Document], *, timeout: float = 15.0) -> None:
        self._docs: dict[str, tuple[Document, OpenAPI, dict[str, tuple[str, str]]]] = {}
        for name, doc in documents.items():
            spec = {**doc.spec, "servers": [{"url": doc.base_url.rstrip("/")}]}
            try:
                api = OpenAPI.from_dict(spec)
            except OpenAPIValidationError as exc:  # the document itself is invalid: said at start-up
                raise ConfigurationError(f"pack {name}: its OpenAPI document is invalid: {exc.message}") from None
            ops = {
                op["operationId"]: (method.upper(), route)
                for route, item in spec.get("paths", {}).items()
                for method, op in item.items()
                if isinstance(op, dict) and "operationId" in op
            }
            self._docs[name] = (doc, api, ops)
        self._client = httpx.Client(timeout=timeout)

    def close(self) -> None:
        self._client.close()

    def call(
        self,
        document: str,
        operation_id: str,
        *,
        path: dict[str, str],
        query: dict[str, str],
        body: JsonValue = None,
    ) -> HttpResult:
        if document not in self._docs:
            raise ConfigurationError(f"no OpenAPI document is configured for pack {document}")
        doc, api, ops = self._docs[document]
        if operation_id not in ops:
            raise InvalidParametersError(f"{document}: no operation {operation_id!r} in its OpenAPI document")
        method, route = ops[operation_id]
        url = doc.base_url.rstrip("/") + route
        for name, value in path.items():
            url = url.replace("{" + name + "}", quote(value, safe=""))  # a value can never add a path segment
        headers = {"Authorization": f"Bearer {doc.token}"} if doc.token else {}
        content = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            content = json.dumps(body).encode()
        request = self._client.build_request(method, url, params=query or None, headers=headers, content=content)
        try:
            api.validate_request(_Request(request, doc.base_url))
        except OpenAPIError as exc:
            raise InvalidParametersError(
                f"{operation_id}: the request does not match the API: {_problem(exc)}"
            ) from None
        try:
            response = self._client.send(request)
        except httpx.HTTPError as exc:
            raise SystemUnavailableError(f"{document} unreachable: {type(exc).__name__}: {exc}") from None
        try:
            answer: JsonValue = response.json() if response.content else None
        except ValueError:
            answer = response.text[:500]
        if response.status_code == 404:
            raise NotFoundError(f"{operation_id}: {response.text[:200]}")
        if response.status_code == 429 or response.status_code >= 500:
            raise SystemUnavailableError(
                f"{operation_id}: {document} answered {response.status_code}: {response.text[:200]}",
                retry_after_seconds(response.headers.get("Retry-After"), time.time()),
            )
        if not response.is_success:
            raise ActionFailedError(
                f"{operation_id}: {document} answered {response.status_code}: {response.text[:200]}"
            )
        return HttpResult(status=response.status_code, body=answer)
