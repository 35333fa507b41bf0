"""The one aiohttp server: the application with every surface's routes (`app.py`), health and readiness, and
`actiondesk serve`, which builds the runtime and starts it all."""
