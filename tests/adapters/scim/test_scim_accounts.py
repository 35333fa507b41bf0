"""ScimAccounts against a real scim2-server started once per session (a tenant of its own per test)."""

from __future__ import annotations

import pytest
from livesystems import LiveScim, free_port

from actiondesk.adapters.scim import ScimAccounts
from actiondesk.core.errors import ActionFailedError, NotFoundError, SystemUnavailableError
from actiondesk.core.fulfilment import NewAccount


@pytest.fixture
def accounts(live_scim: LiveScim) -> ScimAccounts:
    client = ScimAccounts(live_scim.tenant(), live_scim.token)
    client.create_account(
        NewAccount(
            user_name="bob", external_id="bob", given_name="Bob", family_name="B", email="bob@example.com", active=True
        )
    )
    return client


def _jane(**changes: object) -> NewAccount:
    fields = dict(
        user_name="jdoe",
        external_id="jdoe-20261214",
        given_name="Jane",
        family_name="Doe",
        email="jane.doe@example.com",
        active=False,
        manager="bob",
        title="Data Analyst",
        entitlements=("tableau", "office-365"),
    )
    return NewAccount(**{**fields, **changes})  # type: ignore[arg-type]


def test_create_find_read_back_and_activate(accounts: ScimAccounts):
    created = accounts.create_account(_jane())
    assert created.user_name == "jdoe"
    assert not created.active
    assert created.email == "jane.doe@example.com"
    assert created.entitlements == ("tableau", "office-365")
    bob = accounts.find_account(user_name="bob")
    assert bob is not None
    assert created.manager == bob.id
    assert accounts.find_account(external_id="jdoe-20261214") == created
    assert accounts.find_account(external_id="someone-else") is None
    assert accounts.get_account(created.id).display_name == "Jane Doe"
    assert accounts.set_active(created.id, True).active
    assert accounts.get_account(created.id).active


def test_a_taken_user_name_is_refused_with_the_servers_reason(accounts: ScimAccounts):
    accounts.create_account(_jane())
    with pytest.raises(ActionFailedError, match="uniqueness"):
        accounts.create_account(_jane(external_id="other"))


def test_unknown_account_wrong_token_and_no_server(live_scim: LiveScim, accounts: ScimAccounts):
    with pytest.raises(NotFoundError):
        accounts.get_account("no-such-id")
    wrong = ScimAccounts(live_scim.tenant(), "wrong-token")
    with pytest.raises(ActionFailedError, match="refused the service account") as caught:
        wrong.find_account(user_name="bob")
    assert "wrong-token" not in str(caught.value)
    nowhere = ScimAccounts(f"http://127.0.0.1:{free_port()}/v2", "t", timeout=2)
    with pytest.raises(SystemUnavailableError, match="unreachable"):
        nowhere.find_account(user_name="bob")


def test_filters_quote_what_they_look_for(accounts: ScimAccounts):
    assert accounts.find_account(user_name='bob" or userName pr "') is None
