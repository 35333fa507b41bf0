"""The web console: a local page that speaks to the same core as the chat surfaces."""
