"""The `actiondesk` command line: `main.py` holds the Typer app and the small commands, one module per command
group beside it (actions, outbox, policy, requests, services, teams, tokens), and `support.py` what they all
share (the settings with the command's overrides, and how a failure ends a command)."""
