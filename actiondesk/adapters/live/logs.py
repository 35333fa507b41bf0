"""Log lines from Loki, by the ``service`` label and optionally a trace id, as the Telemetry port's LogLine.

A line is read as JSON (``{"level", "msg", "trace_id", "version"}``), else as logfmt (``level=error msg=...``);
the stream's labels fill in what the line does not say. Levels are normalised to DEBUG, INFO, WARN and ERROR.
"""

from __future__ import annotations

import json
import re
from datetime import datetime

from actiondesk.core.errors import ActionFailedError
from actiondesk.core.estate import LogLine
from actiondesk.core.ports import LogSearch
from actiondesk.core.systems import LogRecord

_LOGFMT = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|\S+)')
_LEVELS = {
    "debug": "DEBUG",
    "trace": "DEBUG",
    "info": "INFO",
    "notice": "INFO",
    "warn": "WARN",
    "warning": "WARN",
    "error": "ERROR",
    "err": "ERROR",
    "critical": "ERROR",
    "fatal": "ERROR",
}
_KEYS = {
    "level": ("level", "lvl", "severity", "detected_level"),
    "message": ("msg", "message"),
    "trace_id": ("trace_id", "traceID", "traceId", "trace"),
    "version": ("version", "service_version"),
}


def _fields(line: str) -> dict[str, str]:
    text = line.strip()
    if text.startswith("{"):
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            return {str(k): str(v) for k, v in parsed.items() if v is not None}
    found = {k: v[1:-1].replace('\\"', '"') if v.startswith('"') else v for k, v in _LOGFMT.findall(text)}
    return found if "level" in found or "msg" in found else {}


def _pick(fields: dict[str, str], labels: dict[str, str], what: str) -> str:
    for key in _KEYS[what]:
        if fields.get(key):
            return fields[key]
    for key in _KEYS[what]:
        if labels.get(key):
            return labels[key]
    return ""


def to_line(service: str, record: LogRecord) -> LogLine:
    fields = _fields(record.line)
    level = _pick(fields, record.labels, "level")
    return LogLine(
        at=record.at,
        service=service,
        level=_LEVELS.get(level.lower(), level.upper() or "INFO"),
        message=_pick(fields, record.labels, "message") or record.line,
        trace_id=_pick(fields, record.labels, "trace_id"),
        version=_pick(fields, record.labels, "version"),
    )


def read_logs(
    search: LogSearch | None,
    service: str,
    start: datetime,
    end: datetime,
    *,
    trace_id: str | None,
    level: str | None,
    limit: int,
) -> list[LogLine]:
    """The service's lines (of one trace, of one level), oldest first, at most ``limit`` (the newest).
    No Loki configured: no lines."""
    if search is None:
        return []
    wanted = min(5000, limit * 10) if level else limit  # the level is read from the line: ask for more
    try:
        records = search.search({"service": service}, start, end, trace_id=trace_id, limit=wanted)
    except ActionFailedError as exc:
        raise ActionFailedError(f"could not read {service}'s logs from Loki: {exc}") from None
    lines = [to_line(service, r) for r in records]
    if level:
        lines = [ln for ln in lines if ln.level == level]
    return lines[-limit:] if limit > 0 else []
