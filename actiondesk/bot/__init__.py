"""Surfaces (the web console, later Slack and Teams), the CLI, scheduler jobs and the composition root."""
