from __future__ import annotations

import re
from datetime import timedelta

import pytest

from actiondesk.adapters.sandbox import DEFAULT_START, SandboxEstate, SessionStatus, default_estate
from actiondesk.core.errors import UnknownServiceError


def test_default_services_have_the_tiers_environments_and_dependencies_of_the_design(estate: SandboxEstate) -> None:
    services = {s.name: s for s in estate.services()}
    assert set(services) >= {"payment-gateway", "orders-db", "checkout", "search"}
    pg = services["payment-gateway"]
    assert (pg.tier, pg.environment, pg.version, pg.depends_on) == (1, "production", "v2.4.1", ("orders-db",))
    assert {"payment gateway", "payments", "payment-gw"} <= set(pg.aliases)
    assert (services["orders-db"].tier, services["orders-db"].environment) == (0, "production")
    assert services["checkout"].depends_on == ("payment-gateway",)
    assert (services["search"].tier, services["search"].environment) == (3, "staging")
    assert estate.service("checkout") == services["checkout"]


def test_unknown_service_raises(estate: SandboxEstate) -> None:
    with pytest.raises(UnknownServiceError, match="billing"):
        estate.service("billing")


def test_each_service_has_seeded_history_days_before_start_with_a_previous_version(estate: SandboxEstate) -> None:
    for service in estate.services():
        history = estate.deployments(service.name)
        assert 2 <= len(history) <= 3
        assert history[0].version == service.version
        assert len({d.version for d in history}) == len(history)
        for d in history:
            assert re.fullmatch(r"[0-9a-f]{7}", d.commit)
            assert d.deployed_at <= DEFAULT_START - timedelta(days=1)
            assert d.author
            assert d.kind == "deploy"
        assert [d.deployed_at for d in history] == sorted((d.deployed_at for d in history), reverse=True)


def test_baselines_are_realistic() -> None:
    for record in default_estate(DEFAULT_START).services:
        assert 0.002 <= record.baseline_error_rate <= 0.005
        assert 120 <= record.baseline_latency_ms <= 250


def test_directory_has_support_sre_and_cab(estate: SandboxEstate) -> None:
    assert estate.members("sre") >= {"bob", "dave", "erin"}
    assert estate.members("cab") >= {"carol", "erin"}
    assert "alice" in estate.members("support")
    alice = estate.person("alice")
    assert alice is not None
    assert alice.email == "alice@example.com"
    assert alice.slack_user_id == "U0ALICE"
    assert estate.person("mallory") is None


def test_find_person_by_chat_id_then_email(estate: SandboxEstate) -> None:
    bob = estate.person("bob")
    assert bob is not None
    assert bob.teams_aad_object_id is not None
    assert estate.find_person(slack_user_id="U0BOB") == bob
    assert estate.find_person(teams_aad_object_id=bob.teams_aad_object_id) == bob
    assert estate.find_person(email="BOB@example.com") == bob
    assert estate.find_person(slack_user_id="U0NOBODY") is None
    assert estate.find_person() is None


def test_log_volume_and_vpn(estate: SandboxEstate) -> None:
    volume = estate.volume("worker-1")
    assert volume.path == "/var/log"
    assert 55 <= volume.used_pct <= 70
    state = estate.state
    assert state.vpn.sessions
    assert all(status is SessionStatus.ACTIVE for status in state.vpn.sessions.values())
    assert {(o.requested_for, o.item, o.status) for o in state.erp} == {
        ("frank", "laptop-light", "fulfilled"),
        ("dave", "laptop-dev", "fulfilled"),
    }
