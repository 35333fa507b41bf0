"""The case in hand and the spans around the work on it.

``case_scope(case_id)`` marks everything done inside it as work on that case: every log record written
there carries the case id (the log formatter reads ``current_case()``), and every span started there gets
it as the ``actiondesk.case_id`` attribute (a span processor set up by the composition root reads it).

``span(name, ...)`` is the one way the layers open a span. It goes through the OpenTelemetry API only: until
the composition root installs an SDK tracer provider (``OTEL_EXPORTER_OTLP_ENDPOINT`` set), every span is
a non-recording no-op and nothing is exported or kept.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar

from opentelemetry import trace
from opentelemetry.util.types import AttributeValue

CASE_ATTRIBUTE = "actiondesk.case_id"
TRACER = "actiondesk"

_case: ContextVar[str | None] = ContextVar("actiondesk_case_id", default=None)


def current_case() -> str | None:
    """The id of the case being worked on in this context, or None."""
    return _case.get()


@contextmanager
def case_scope(case_id: str) -> Iterator[None]:
    """Work on ``case_id`` until the block ends (threads started with ``asyncio.to_thread`` inherit it)."""
    token = _case.set(case_id)
    try:
        yield
    finally:
        _case.reset(token)


@contextmanager
def span(
    name: str,
    attributes: Mapping[str, AttributeValue] | None = None,
    *,
    kind: trace.SpanKind = trace.SpanKind.INTERNAL,
) -> Iterator[trace.Span]:
    """A span around the block, child of the current one. An exception that leaves the block is recorded on
    it and marks it as an error."""
    tracer = trace.get_tracer(TRACER)
    with tracer.start_as_current_span(name, kind=kind, attributes=dict(attributes or {})) as current:
        yield current
