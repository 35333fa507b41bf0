"""Machine-to-machine doors in: Alertmanager alerts open cases, CI/CD change events are stored for triage."""
