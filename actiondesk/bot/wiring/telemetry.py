"""OpenTelemetry traces over OTLP/HTTP, set up only when an endpoint is configured.

With ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``) set, ``configure_tracing``
installs the SDK's tracer provider with a batch exporter, stamps every span started inside a
``case_scope`` with the case id, and instruments httpx so that every outbound call is a client span that
carries ``traceparent`` on. Without one it does nothing at all: the API's spans stay no-ops, httpx is left
alone, no thread starts, nothing is sent.

Inbound requests get their server span from ``trace_requests``, an aiohttp middleware that continues a
caller's ``traceparent``.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Awaitable, Callable
from importlib.metadata import PackageNotFoundError, version
from urllib.parse import unquote

from aiohttp import web
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode
from opentelemetry.util.types import AttributeValue

from actiondesk.core.errors import ConfigurationError
from actiondesk.core.settings import Settings
from actiondesk.core.tracing import CASE_ATTRIBUTE, TRACER, current_case

log = logging.getLogger(__name__)

# Probes and scrapes arrive every few seconds from every kubelet and Prometheus: no span for them.
UNTRACED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


class CaseAttribute(SpanProcessor):
    """Puts the case id of the work in hand on every span as it starts, ours and the instrumentations'."""

    def on_start(self, span: Span, parent_context: otel_context.Context | None = None) -> None:
        case = current_case()
        if case is not None:
            span.set_attribute(CASE_ATTRIBUTE, case)


def traces_endpoint(settings: Settings) -> str | None:
    """The URL spans are POSTed to: the signal's own endpoint as given, else the base URL + /v1/traces."""
    if settings.otel_exporter_otlp_traces_endpoint:
        return settings.otel_exporter_otlp_traces_endpoint
    if settings.otel_exporter_otlp_endpoint:
        return settings.otel_exporter_otlp_endpoint.rstrip("/") + "/v1/traces"
    return None


def export_headers(settings: Settings) -> dict[str, str]:
    """OTEL_EXPORTER_OTLP_HEADERS: ``key=value`` pairs, comma-separated, values percent-encoded."""
    raw = settings.otel_exporter_otlp_headers.get_secret_value() if settings.otel_exporter_otlp_headers else ""
    headers: dict[str, str] = {}
    for pair in filter(None, (p.strip() for p in raw.split(","))):
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigurationError("OTEL_EXPORTER_OTLP_HEADERS: each entry must be key=value")
        headers[unquote(key.strip()).lower()] = unquote(value.strip())
    return headers


def _version() -> str:
    try:
        return version("actiondesk")
    except PackageNotFoundError:
        return "unknown"


def configure_tracing(settings: Settings) -> TracerProvider | None:
    """Install the SDK tracer provider when an OTLP endpoint is set; None (and no change at all) otherwise.

    The caller shuts the provider down at exit, which sends what is still batched.
    """
    endpoint = traces_endpoint(settings)
    if endpoint is None:
        return None
    if not endpoint.startswith(("http://", "https://")):
        raise ConfigurationError(f"OTLP traces endpoint {endpoint!r} must be an http:// or https:// URL")
    resource = Resource.create(
        {
            "service.name": settings.otel_service_name,
            "service.version": _version(),
            "service.instance.id": f"{socket.gethostname()}:{os.getpid()}",
        }
    )
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(CaseAttribute())
    provider.add_span_processor(
        BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint, headers=export_headers(settings)))
    )
    trace.set_tracer_provider(provider)
    HTTPXClientInstrumentor().instrument(tracer_provider=provider)
    log.info("tracing: spans go to %s as %s", endpoint, settings.otel_service_name)
    return provider


def shutdown_tracing(provider: TracerProvider | None) -> None:
    if provider is not None:
        HTTPXClientInstrumentor().uninstrument()
        provider.shutdown()


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def trace_requests(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A server span per inbound request, named by its route, continuing the caller's ``traceparent``."""
    if request.path in UNTRACED_PATHS:
        return await handler(request)
    resource = request.match_info.route.resource
    route = resource.canonical if resource is not None else request.path
    attributes: dict[str, AttributeValue] = {
        "http.request.method": request.method,
        "http.route": route,
        "url.path": request.path,
        "url.scheme": request.scheme,
        "server.port": request.url.port or 0,
    }
    tracer = trace.get_tracer(TRACER)
    parent = propagate.extract(request.headers)
    with tracer.start_as_current_span(
        f"{request.method} {route}", context=parent, kind=SpanKind.SERVER, attributes=attributes
    ) as current:
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            current.set_attribute("http.response.status_code", exc.status)
            if exc.status >= 500:
                current.set_status(Status(StatusCode.ERROR))
            raise
        current.set_attribute("http.response.status_code", response.status)
        if response.status >= 500:
            current.set_status(Status(StatusCode.ERROR))
        return response
