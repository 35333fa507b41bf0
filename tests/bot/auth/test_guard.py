"""Every console and API request passes the guard: no credential, no write; the person is the credential's."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from authn import bearer

from actiondesk.bot.auth import guard, tokens
from actiondesk.core.access import Scope, digest
from actiondesk.core.audit import AuditKind

NEW_CASE = {"text": "the payment gateway is throwing 500s"}


async def _open(console, headers) -> dict:
    answer = await console.http.post("/api/cases", json=NEW_CASE, headers=headers)
    assert answer.status == 201, await answer.text()
    return await answer.json()


async def test_without_a_session_or_token_every_write_is_401_and_nothing_changes(console):
    bob = bearer(console.runtime, "bob")
    case = await _open(console, bearer(console.runtime, "alice"))
    entries = len(list(console.runtime.store.audit()))
    writes = [
        ("/api/cases", NEW_CASE),
        (f"/api/cases/{case['id']}/messages", {"text": "any news?"}),
        ("/api/approvals/A-anything", {"decision": "approve"}),
    ]
    for path, body in writes:
        for headers in (
            {},
            {"Authorization": "Bearer adt_0123456789abcdef_" + "x" * 43},
            {"Authorization": "Basic Ym9iOmJvYg=="},
        ):
            answer = await console.http.post(path, json=body, headers=headers)
            assert answer.status == 401, (path, headers, await answer.text())
            assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    for path in ("/api/cases", f"/api/cases/{case['id']}", "/api/people", "/api/metrics", "/api/me"):
        assert (await console.http.get(path)).status == 401
    assert [c.id for c in console.runtime.store.list_cases()] == [case["id"]]
    after = list(console.runtime.store.audit())[entries:]
    refused = [e for e in after if e.kind is AuditKind.ACCESS_REFUSED]
    assert len(refused) == 1  # 24 refusals from one client in a burst: one entry
    agent = console.runtime.settings.agent_identity
    assert all(e.actor == agent and e.case_id == case["id"] for e in after if e not in refused)  # the case's own run
    assert (await console.http.get("/api/cases", headers=bob)).status == 200


async def test_the_person_is_the_credentials_never_a_name_in_the_body(console):
    bob = bearer(console.runtime, "bob")
    named = await console.http.post("/api/cases", json={**NEW_CASE, "user": "alice"}, headers=bob)
    assert named.status == 400
    assert "signed in" in (await named.json())["error"]
    case = await _open(console, bob)
    assert case["reporter"] == "bob"
    me = await (await console.http.get("/api/me", headers=bob)).json()
    assert (me["person"], me["via"]) == ("bob", "token")
    assert "sre" in me["groups"]


async def test_token_scopes_are_enforced(console):
    runtime = console.runtime
    reader = bearer(runtime, "bob", frozenset({Scope.CASES_READ}))
    writer = bearer(runtime, "bob", frozenset({Scope.CASES_WRITE}))
    assert (await console.http.get("/api/cases", headers=reader)).status == 200
    refused = await console.http.post("/api/cases", json=NEW_CASE, headers=reader)
    assert refused.status == 403
    assert "cases:write" in (await refused.json())["error"]
    assert (await console.http.get("/api/cases", headers=writer)).status == 403  # no cases:read
    approve = await console.http.post("/api/approvals/A-x", json={"decision": "approve"}, headers=writer)
    assert approve.status == 403
    assert "approve" in (await approve.json())["error"]


async def test_revoked_and_expired_tokens_are_refused(console):
    runtime = console.runtime
    access, now = runtime.store.access, runtime.clock.now()
    token, text = tokens.create(access, runtime.directory, "bob", frozenset(Scope), now)
    header = {"Authorization": f"Bearer {text}"}
    assert (await console.http.get("/api/cases", headers=header)).status == 200
    assert access.token(token.id).last_used_at is not None
    assert access.revoke_token(token.id, now)
    assert (await console.http.get("/api/cases", headers=header)).status == 401
    expired, old = tokens.create(
        access, runtime.directory, "bob", frozenset(Scope), now - timedelta(days=2), timedelta(days=1)
    )
    assert (await console.http.get("/api/cases", headers={"Authorization": f"Bearer {old}"})).status == 401
    forged = text[:-4] + ("AAAA" if not text.endswith("AAAA") else "BBBB")
    assert (await console.http.get("/api/cases", headers={"Authorization": f"Bearer {forged}"})).status == 401
    assert expired.id != token.id


async def test_only_the_secrets_hash_is_stored(console):
    runtime = console.runtime
    token, text = tokens.create(runtime.store.access, runtime.directory, "bob", frozenset(Scope), runtime.clock.now())
    secret = text.rsplit("_", 1)[1]
    stored = runtime.store.access.token(token.id)
    assert stored is not None
    assert secret not in stored.model_dump_json()
    assert stored.secret_hash != secret


async def test_a_token_for_someone_outside_the_directory_cannot_be_made(console):
    runtime = console.runtime
    with pytest.raises(Exception, match="not in the directory"):
        tokens.create(runtime.store.access, runtime.directory, "mallory", frozenset(Scope), runtime.clock.now())


async def test_cookie_writes_must_come_from_the_consoles_own_origin(console):
    alice = await console.demo("alice")
    assert (await console.http.get("/api/cases", headers={"Cookie": alice["Cookie"]})).status == 200
    for origin in ({"Origin": "https://evil.example"}, {"Origin": "null"}, {}):
        answer = await console.http.post("/api/cases", json=NEW_CASE, headers={"Cookie": alice["Cookie"], **origin})
        assert answer.status == 403, origin
    assert console.runtime.store.list_cases() == []
    case = await _open(console, alice)
    assert case["reporter"] == "alice"
    # signing in as someone else from another site (login CSRF) is refused too
    forged = await console.http.post("/auth/demo", json={"person": "bob"}, headers={"Origin": "https://evil.example"})
    assert forged.status == 403


async def test_writes_take_json_only(console):
    bob = bearer(console.runtime, "bob")
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"):
        answer = await console.http.post("/api/cases", data=b"text=hi", headers={**bob, "Content-Type": content_type})
        assert answer.status == 415, content_type
    assert console.runtime.store.list_cases() == []


async def test_security_headers_on_pages_api_and_errors(console):
    for path in ("/", "/static/app.js", "/api/cases", "/healthz", "/nowhere"):
        answer = await console.http.get(path)
        assert answer.headers["X-Frame-Options"] == "DENY", path
        assert answer.headers["X-Content-Type-Options"] == "nosniff", path
        assert "frame-ancestors 'none'" in answer.headers["Content-Security-Policy"], path
        assert "script-src" not in answer.headers["Content-Security-Policy"]  # default-src 'self' covers scripts
        assert answer.headers["Referrer-Policy"] == "no-referrer", path


async def test_the_demo_answers_only_loopback_host_names(console):
    rebound = await console.http.get("/api/cases", headers={"Host": "attacker.example:8080"})
    assert rebound.status == 421
    sign_in = await console.http.post(
        "/auth/demo", json={"person": "bob"}, headers={"Host": "attacker.example", "Origin": "http://attacker.example"}
    )
    assert sign_in.status == 421


async def test_logout_ends_the_session(console):
    alice = await console.demo("alice")
    assert (await console.http.get("/api/me", headers=alice)).status == 200
    out = await console.http.post("/auth/logout", json={}, headers=alice)
    assert out.status == 200
    assert "Max-Age=0" in out.headers["Set-Cookie"] or "expires" in out.headers["Set-Cookie"].lower()
    assert (await console.http.get("/api/me", headers=alice)).status == 401


async def test_session_cookie_flags(console):
    answer = await console.http.post("/auth/demo", json={"person": "alice"}, headers={"Origin": console.origin})
    cookie = answer.headers["Set-Cookie"]
    assert cookie.startswith("__Host-actiondesk_session=")
    for flag in ("HttpOnly", "Secure", "SameSite=Lax", "Path=/"):
        assert flag in cookie, flag
    assert "Domain" not in cookie


async def test_an_expired_session_is_refused(console):
    alice = await console.demo("alice")
    session_hash = digest(alice["Cookie"].split("=", 1)[1])
    access, now = console.runtime.store.access, console.runtime.clock.now()
    assert access.session(session_hash, now) is not None
    assert access.session(session_hash, now + timedelta(hours=12, seconds=1)) is None  # ACTIONDESK_SESSION_HOURS
    assert (await console.http.get("/api/me", headers=alice)).status == 200


async def test_a_credential_of_someone_who_left_the_directory_is_refused_and_asked_off_the_event_loop(
    console, monkeypatch
):
    """The directory may be LDAP or SCIM behind a network call: the guard asks it in the credential's own call
    off the event loop, never on it (where every other request would wait for the answer), and about one person
    once in LISTED_SECONDS; a leaver is refused once that has passed."""
    bob = bearer(console.runtime, "bob")
    directory = console.runtime.directory
    listed = directory.person
    asked_on: list[str] = []
    gone: set[str] = set()

    def person(name: str):
        asked_on.append(threading.current_thread().name)
        return None if name in gone else listed(name)

    monkeypatch.setattr(directory, "person", person)
    loop_thread = threading.current_thread().name
    for _ in range(3):
        assert (await console.http.get("/api/cases", headers=bob)).status == 200
    assert len(asked_on) == 1  # listed: not asked again within the window
    gone.add("bob")
    assert (await console.http.get("/api/cases", headers=bob)).status == 200  # within the window
    monkeypatch.setattr(guard, "LISTED_SECONDS", 0.0)  # the window has passed
    refused = await console.http.get("/api/cases", headers=bob)
    assert refused.status == 401
    assert "no longer in the directory" in (await refused.json())["error"]
    assert len(asked_on) == 2
    assert loop_thread not in asked_on
