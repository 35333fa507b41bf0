from __future__ import annotations

from pathlib import Path

import pytest

from actiondesk.adapters.directory import YamlDirectory
from actiondesk.core.errors import ConfigurationError

GOOD = """
people:
  alice: {email: Alice@Example.com, groups: [support], slack_user_id: U0ALICE}
  bob: {email: bob@example.com, groups: [sre, cab], teams_aad_object_id: 6f1d0c1e-0000-4000-8000-00000000b0b0}
  dave: {email: dave@example.com, groups: [sre]}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "people.yaml"
    path.write_text(text)
    return path


def test_people_groups_and_lookups(tmp_path: Path):
    directory = YamlDirectory.from_file(write(tmp_path, GOOD))
    assert [p.name for p in directory.people()] == ["alice", "bob", "dave"]
    assert directory.members("sre") == {"bob", "dave"}
    assert directory.members("nobody") == frozenset()
    assert directory.find_person(slack_user_id="U0ALICE").name == "alice"
    assert directory.find_person(teams_aad_object_id="6f1d0c1e-0000-4000-8000-00000000b0b0").name == "bob"
    assert directory.find_person(email="alice@example.COM").name == "alice"  # email match ignores case
    assert directory.find_person(slack_user_id="U0NOBODY", email="stranger@example.com") is None


def test_chat_id_wins_over_email(tmp_path: Path):
    directory = YamlDirectory.from_file(write(tmp_path, GOOD))
    assert directory.find_person(slack_user_id="U0ALICE", email="bob@example.com").name == "alice"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("people: [alice]", "people"),
        ("people:\n  alice: {groups: [sre]}", "people.alice.email"),
        ("people:\n  alice: {email: alice@example.com, role: admin}", "people.alice.role"),
        ("people:\n  Alice Smith: {email: alice@example.com}", "not a valid person name"),
        ("people: {alice: {email: [}", "directory file"),
    ],
)
def test_a_bad_directory_file_is_a_clear_configuration_error(tmp_path: Path, text: str, problem: str):
    with pytest.raises(ConfigurationError, match=problem.replace(".", r"\.")):
        YamlDirectory.from_file(write(tmp_path, text))


def test_a_missing_file_is_a_configuration_error(tmp_path: Path):
    with pytest.raises(ConfigurationError, match="directory file"):
        YamlDirectory.from_file(tmp_path / "absent.yaml")
