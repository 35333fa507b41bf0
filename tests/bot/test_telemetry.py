"""Tracing set-up: nothing at all without an endpoint; the OTEL_ settings read as the specification says."""

from __future__ import annotations

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from actiondesk.bot.wiring.telemetry import CaseAttribute, configure_tracing, export_headers, traces_endpoint
from actiondesk.core.errors import ConfigurationError
from actiondesk.core.settings import Settings
from actiondesk.core.tracing import CASE_ATTRIBUTE, case_scope, current_case, span


def _settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def test_without_an_endpoint_nothing_is_set_up_and_spans_record_nothing() -> None:
    before = trace.get_tracer_provider()
    settings = _settings()
    assert not settings.tracing
    assert configure_tracing(settings) is None
    assert trace.get_tracer_provider() is before
    with span("case.run") as current:
        assert not current.is_recording()
        assert not current.get_span_context().is_valid


def test_the_standard_variable_names_are_read(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", "x-api-key=s%3Dcret, X-Tenant=ops")
    monkeypatch.setenv("OTEL_SERVICE_NAME", "desk")
    settings = Settings()
    assert settings.tracing
    assert traces_endpoint(settings) == "http://collector:4318/v1/traces"
    assert export_headers(settings) == {"x-api-key": "s=cret", "x-tenant": "ops"}
    assert settings.otel_service_name == "desk"
    assert "s%3Dcret" not in repr(settings)  # the headers are a secret


def test_the_signal_endpoint_is_used_as_given() -> None:
    settings = _settings(
        otel_exporter_otlp_endpoint="http://a:4318", otel_exporter_otlp_traces_endpoint="https://b/otlp/traces"
    )
    assert traces_endpoint(settings) == "https://b/otlp/traces"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"otel_exporter_otlp_endpoint": "collector:4318"}, "http:// or https://"),
        (
            {"otel_exporter_otlp_endpoint": "http://c:4318", "otel_exporter_otlp_headers": "no-equals-sign"},
            "key=value",
        ),
    ],
)
def test_a_bad_otel_setting_stops_the_start_with_a_clear_error(values: dict, message: str) -> None:
    before = trace.get_tracer_provider()
    with pytest.raises(ConfigurationError, match=message):
        configure_tracing(_settings(**values))
    assert trace.get_tracer_provider() is before


def test_every_span_started_inside_a_case_scope_names_the_case() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(CaseAttribute())
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span("outside"):
        pass
    with case_scope("C-1"), tracer.start_as_current_span("inside"):
        assert current_case() == "C-1"
        with case_scope("C-2"), tracer.start_as_current_span("nested"):
            pass
    assert current_case() is None
    seen = {s.name: (s.attributes or {}).get(CASE_ATTRIBUTE) for s in exporter.get_finished_spans()}
    assert seen == {"outside": None, "inside": "C-1", "nested": "C-2"}
