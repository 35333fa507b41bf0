"""Log records as lines: readable text for a terminal, or one JSON object per line for a log collector.

Both formats carry the case id of the work in hand (``core.tracing.case_scope``) and redact secrets with the
same rules as the audit trail (``core.redact``), message and traceback alike. JSON lines have the fixed keys
``time`` (RFC 3339, UTC), ``level``, ``logger``, ``message``, ``case_id`` and ``trace_id`` / ``span_id`` (the
current OpenTelemetry span, null when none records), plus ``exception`` when one is attached.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import TextIO

from opentelemetry import trace

from actiondesk.core.redact import redact_text
from actiondesk.core.settings import Settings
from actiondesk.core.tracing import current_case

INSTALLED = "_actiondesk_handler"  # the attribute that marks the handler configure_logging installed
# Libraries whose INFO lines are routine: APScheduler's "Running job ... executed successfully" (two lines per
# firing, every two seconds) and alembic's migration steps (on every CLI command that opens the database).
ROUTINE = ("apscheduler", "alembic")


def _trace_ids() -> tuple[str | None, str | None]:
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None, None
    return trace.format_trace_id(context.trace_id), trace.format_span_id(context.span_id)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        trace_id, span_id = _trace_ids()
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact_text(record.getMessage()),
            "case_id": current_case(),
            "trace_id": trace_id,
            "span_id": span_id,
        }
        if record.exc_info:
            line["exception"] = redact_text(self.formatException(record.exc_info))
        elif record.stack_info:
            line["exception"] = redact_text(self.formatStack(record.stack_info))
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = redact_text(super().format(record))
        case = current_case()
        if case is not None:
            first, newline, rest = text.partition("\n")
            text = f"{first} [case {case}]{newline}{rest}"
        return text


def _routine_at_debug(record: logging.LogRecord) -> bool:
    """A handler filter: the routine libraries' INFO records become DEBUG records, shown only at DEBUG."""
    if record.levelno == logging.INFO and record.name.split(".", 1)[0] in ROUTINE:
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return logging.getLogger().isEnabledFor(logging.DEBUG)
    return True


def configure_logging(settings: Settings, stream: TextIO | None = None) -> None:
    """Send every record at ``ACTIONDESK_LOG_LEVEL`` and above to stderr in ``ACTIONDESK_LOG_FORMAT``.

    Idempotent: calling it again replaces the handler it installed before. In JSON mode Python warnings are
    logged too, so that nothing but JSON reaches the stream.
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, INSTALLED, False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if settings.log_format == "json" else TextFormatter())
    setattr(handler, INSTALLED, True)
    handler.addFilter(_routine_at_debug)
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    logging.captureWarnings(settings.log_format == "json")


def announce(settings: Settings, message: str, level: int = logging.INFO) -> None:
    """A line meant for the person who started the process (where the server listens, a loud warning):
    printed as it is in text mode, a log record in JSON mode, so that a log collector reads JSON only."""
    if settings.log_format == "json":
        logging.getLogger("actiondesk").log(level, message)
    else:
        print(message, flush=True)
