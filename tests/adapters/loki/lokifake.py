"""A local Loki for the tests, following its documented HTTP API for /loki/api/v1/query_range: a LogQL stream
selector of exact matchers with an optional `|= "text"` line filter, start/end in nanoseconds, limit and
direction, a `streams` result, and a 400 with a plain-text parse error for anything else."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

_STRING = r'"((?:[^"\\]|\\.)*)"'
_QUERY = re.compile(r"^\{(?P<matchers>[^}]*)\}(?:\s*\|=\s*" + _STRING + r")?$")
_MATCHER = re.compile(r"^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*" + _STRING + r"\s*$")


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


class FakeLoki:
    def __init__(self) -> None:
        self.streams: list[tuple[dict[str, str], list[tuple[int, str]]]] = []
        self.queries: list[dict[str, str]] = []

    def push(self, labels: dict[str, str], ns: int, line: str) -> None:
        for stream_labels, values in self.streams:
            if stream_labels == labels:
                values.append((ns, line))
                return
        self.streams.append((labels, [(ns, line)]))

    def query_range(self, params: dict[str, str]) -> tuple[int, str]:
        self.queries.append(params)
        match = _QUERY.match(params.get("query", "").strip())
        if match is None:
            return 400, "parse error : syntax error: unexpected IDENTIFIER, expecting { (line 1, col 1)"
        wanted: dict[str, str] = {}
        for part in filter(None, match.group("matchers").split(",")):
            matcher = _MATCHER.match(part)
            if matcher is None:
                return 400, f"parse error : bad matcher {part!r}"
            wanted[matcher.group(1)] = _unquote(matcher.group(2))
        if not wanted:
            return 400, "parse error : queries require at least one regexp or equality matcher"
        needle = _unquote(match.group(2)) if match.group(2) is not None else None
        start, end = int(params["start"]), int(params["end"])
        limit = int(params.get("limit", 100))
        result = []
        for labels, values in self.streams:
            if any(labels.get(k) != v for k, v in wanted.items()):
                continue
            chosen = [(ns, line) for ns, line in values if start <= ns < end and (needle is None or needle in line)]
            chosen.sort(reverse=params.get("direction", "backward") == "backward")
            if chosen:
                result.append({"stream": labels, "values": [[str(ns), line] for ns, line in chosen[:limit]]})
        body = {"status": "success", "data": {"resultType": "streams", "result": result, "stats": {}}}
        return 200, json.dumps(body)


@contextmanager
def fake_loki() -> Iterator[tuple[str, FakeLoki]]:
    loki = FakeLoki()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            if url.path == "/loki/api/v1/query_range":
                code, text = loki.query_range({k: v[0] for k, v in parse_qs(url.query).items()})
            else:
                code, text = 404, "404 page not found"
            data = text.encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json" if code == 200 else "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", loki
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
