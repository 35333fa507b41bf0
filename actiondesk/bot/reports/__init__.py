"""Desk figures from the stored cases (JSON, Prometheus, daily reports) and case events as plain lines."""
