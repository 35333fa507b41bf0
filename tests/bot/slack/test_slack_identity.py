"""Slack users as directory people: the mapping follows the directory within KNOWN_SECONDS, and is bounded; a
person mapped by profile email stays that person while Slack cannot answer."""

from __future__ import annotations

from slackfake import FakeSlack

from actiondesk.bot.slack.client import make_client
from actiondesk.bot.slack.config import SlackConfig
from actiondesk.bot.slack.identity import KNOWN_SECONDS, SlackIdentity, unmapped
from actiondesk.core.estate import Person


class LiveDirectory:
    """A directory whose Slack mapping changes while the server runs, as an LDAP or SCIM one's does."""

    def __init__(self, slack_ids: dict[str, str], emails: dict[str, str] | None = None) -> None:
        self.slack_ids = slack_ids  # Slack user id → person
        self.emails = emails or {}  # email → person
        self.asked = 0

    def person(self, name: str) -> Person | None:
        return (
            Person(name=name, email=f"{name}@example.com", groups=frozenset())
            if name in {*self.slack_ids.values(), *self.emails.values()}
            else None
        )

    def members(self, group: str) -> frozenset[str]:
        return frozenset()

    def people(self) -> list[Person]:
        return [
            Person(name=n, email=f"{n}@example.com", groups=frozenset()) for n in sorted(set(self.slack_ids.values()))
        ]

    def find_person(
        self, slack_user_id: str | None = None, email: str | None = None, teams_aad_object_id: str | None = None
    ) -> Person | None:
        self.asked += 1
        name = self.slack_ids.get(slack_user_id or "") if slack_user_id else self.emails.get(email or "")
        return None if name is None else self.person(name)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def identity(directory: LiveDirectory, fake: FakeSlack, clock: Clock, kept: int = 100) -> SlackIdentity:
    client = make_client(SlackConfig("xoxb-test", "secret", api_url=fake.url))
    return SlackIdentity(directory, client, kept=kept, clock=clock)


async def test_a_user_the_directory_maps_to_someone_else_is_that_person_within_the_known_time(
    fake: FakeSlack,
) -> None:
    directory, clock = LiveDirectory({"U0BOB": "bob"}), Clock()
    people = identity(directory, fake, clock)
    assert await people.person("U0BOB") == "bob"
    directory.slack_ids["U0BOB"] = "carol"  # the directory now says this Slack account is carol's
    clock.now += KNOWN_SECONDS / 2
    assert await people.person("U0BOB") == "bob"  # remembered: the directory was not asked again
    assert directory.asked == 1
    clock.now += KNOWN_SECONDS / 2
    assert await people.person("U0BOB") == "carol"  # on the old code: bob until a restart
    assert directory.asked == 2


async def test_a_user_the_directory_drops_is_unmapped_once_the_known_time_is_over(fake: FakeSlack) -> None:
    directory, clock = LiveDirectory({"U0BOB": "bob"}), Clock()
    people = identity(directory, fake, clock)
    assert await people.person("U0BOB") == "bob"
    del directory.slack_ids["U0BOB"]  # offboarded; users.info gives no email either
    clock.now += KNOWN_SECONDS
    assert await people.person("U0BOB") == unmapped("U0BOB")  # so the approval desk refuses their clicks


async def test_the_users_remembered_are_bounded_the_least_recently_found_forgotten_first(fake: FakeSlack) -> None:
    directory, clock = LiveDirectory({f"U{n:04d}": f"p{n}" for n in range(4)}), Clock()
    people = identity(directory, fake, clock, kept=3)
    for n in range(4):
        assert await people.person(f"U{n:04d}") == f"p{n}"
    assert directory.asked == 4
    assert await people.person("U0003") == "p3"  # remembered
    assert directory.asked == 4
    assert await people.person("U0000") == "p0"  # the first found, forgotten when the fourth came
    assert directory.asked == 5


async def test_while_slack_cannot_answer_a_user_mapped_by_email_stays_that_person(fake: FakeSlack) -> None:
    directory, clock = LiveDirectory({}, emails={"dana@example.com": "dana"}), Clock()
    fake.emails |= {"U0DANA": "dana@example.com", "U0ERIN": "erin@example.com"}
    people = identity(directory, fake, clock)
    assert await people.person("U0DANA") == "dana"  # no Slack id in the directory: found by profile email
    await fake.stop()  # Slack cannot be reached now
    try:
        clock.now += KNOWN_SECONDS
        # on the old code: slack:U0DANA, whose approval clicks are refused for as long as Slack is unreachable
        assert await people.person("U0DANA") == "dana"
        directory.emails["dana@example.com"] = "frank"  # the directory's answer is still fresh
        clock.now += KNOWN_SECONDS
        assert await people.person("U0DANA") == "frank"
        assert await people.person("U0ERIN") == unmapped("U0ERIN")  # never read: nothing to ask the directory with
    finally:
        await fake.start(fake.port)
    fake.emails.pop("U0DANA")  # Slack answers again, and the profile has no email now: the old one is forgotten
    clock.now += KNOWN_SECONDS
    assert await people.person("U0DANA") == unmapped("U0DANA")
