"""`actiondesk doctor`: for each configured system, can ActionDesk reach it, are its credentials accepted, and
does it have the scopes it needs."""
