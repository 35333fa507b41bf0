"""Log lines: JSON objects with the fixed keys, the case in hand and the current span, secrets redacted."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

from actiondesk.bot.wiring.logs import announce, configure_logging
from actiondesk.core.settings import Settings
from actiondesk.core.tracing import case_scope

SLACK_TOKEN = "xoxb-1234567890-abcdefghijkl"


@pytest.fixture
def stream(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved = (root.level, list(root.handlers))
    out = io.StringIO()
    yield out
    for handler in list(root.handlers):
        if handler not in saved[1]:
            root.removeHandler(handler)
    root.setLevel(saved[0])
    logging.captureWarnings(False)


def _settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def _records(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_json_record_has_every_key_and_the_case_it_was_written_for(stream: io.StringIO) -> None:
    configure_logging(_settings(log_format="json"), stream)
    log = logging.getLogger("actiondesk.test")
    log.info("before any case")
    with case_scope("C-123"):
        log.warning("token %s leaked", SLACK_TOKEN)
    first, second = _records(stream)
    assert first == {
        "time": first["time"],
        "level": "INFO",
        "logger": "actiondesk.test",
        "message": "before any case",
        "case_id": None,
        "trace_id": None,
        "span_id": None,
    }
    assert first["time"].endswith("+00:00")
    assert second["case_id"] == "C-123"
    assert second["level"] == "WARNING"
    assert second["message"] == "token [REDACTED] leaked"


def test_the_trace_and_span_of_the_current_span_are_in_the_record(stream: io.StringIO) -> None:
    configure_logging(_settings(log_format="json"), stream)
    tracer = TracerProvider().get_tracer("test")  # a provider of its own: the global one stays untouched
    with tracer.start_as_current_span("work") as span:
        logging.getLogger("actiondesk.test").info("inside")
    (record,) = _records(stream)
    context = span.get_span_context()
    assert record["trace_id"] == trace.format_trace_id(context.trace_id)
    assert record["span_id"] == trace.format_span_id(context.span_id)


def test_a_traceback_is_one_field_and_is_redacted_too(stream: io.StringIO) -> None:
    configure_logging(_settings(log_format="json"), stream)
    try:
        raise RuntimeError(f"Authorization: Bearer {SLACK_TOKEN}")
    except RuntimeError:
        logging.getLogger("actiondesk.test").exception("it failed")
    (record,) = _records(stream)
    assert "RuntimeError" in record["exception"]
    assert SLACK_TOKEN not in json.dumps(record)


def test_the_text_format_redacts_and_names_the_case(stream: io.StringIO) -> None:
    configure_logging(_settings(log_format="text"), stream)
    with case_scope("C-9"):
        logging.getLogger("actiondesk.test").info("password=hunter2 here")
    line = stream.getvalue().strip()
    assert line.endswith("actiondesk.test: password=[REDACTED] here [case C-9]")


def test_configuring_twice_keeps_one_handler_and_the_level(stream: io.StringIO) -> None:
    configure_logging(_settings(log_format="text"), stream)
    configure_logging(_settings(log_format="json", log_level="WARNING"), stream)
    log = logging.getLogger("actiondesk.test")
    log.info("dropped")
    log.error("kept")
    assert [r["message"] for r in _records(stream)] == ["kept"]


def test_warnings_become_json_records_too(stream: io.StringIO) -> None:
    import warnings

    configure_logging(_settings(log_format="json"), stream)
    warnings.warn("something is deprecated", DeprecationWarning, stacklevel=1)
    (record,) = _records(stream)
    assert record["logger"] == "py.warnings"
    assert "something is deprecated" in record["message"]


def test_an_announcement_is_a_record_in_json_mode_and_a_plain_line_in_text_mode(
    stream: io.StringIO, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging(_settings(log_format="json"), stream)
    announce(_settings(log_format="json"), "ActionDesk serving on http://127.0.0.1:1")
    assert _records(stream)[0]["message"] == "ActionDesk serving on http://127.0.0.1:1"
    assert capsys.readouterr().out == ""
    announce(_settings(log_format="text"), "ActionDesk serving on http://127.0.0.1:1")
    assert capsys.readouterr().out == "ActionDesk serving on http://127.0.0.1:1\n"


def test_an_unknown_log_format_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ACTIONDESK_LOG_FORMAT", "logfmt")
    with pytest.raises(ValueError, match="log_format"):
        Settings()
