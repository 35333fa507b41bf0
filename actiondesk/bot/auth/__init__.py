"""Who may use the console and its API: OpenID Connect sign-in, the loopback demo, API tokens, and the guard
that checks every request (credentials, scopes, origin, content type) and sets the security headers."""
