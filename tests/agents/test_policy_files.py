"""The Cedar policy files: validated with file, line and reason; parsed once; re-read on change without a
decision ever mixing two sets; an evaluation error fails closed; ACTIONDESK_POLICY_DIR replaces the built-ins."""

from __future__ import annotations

import os
import shutil
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from actiondesk.actions.catalog import Catalog
from actiondesk.actions.packs import builtin_packs
from actiondesk.agents.governance import Facts, Governance, PolicyData, PolicyError, PolicyStore, load_policies
from actiondesk.agents.governance.cedar import builtin_dir, compile_policies, split_statements
from actiondesk.core.errors import ConfigurationError
from actiondesk.core.governance import AutonomyLevel, Outcome, Risk

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def copy_builtin(tmp_path: Path) -> Path:
    target = tmp_path / "policies"
    shutil.copytree(builtin_dir(), target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def facts(level: int = 3, tier: int = 2, production: bool = False) -> Facts:
    return Facts(
        action="rollback_deployment",
        service="search",
        risk=Risk.MEDIUM,
        destructive=False,
        level=AutonomyLevel(level),
        level_rule="test",
        tier=tier,
        environment="production" if production else "staging",
        production=production,
    )


class NoInventory:
    def service(self, name: str):
        raise AssertionError("not used")

    def services(self) -> list:
        return []


def governance(store: PolicyStore) -> Governance:
    return Governance(Catalog(builtin_packs()), NoInventory(), PolicyData(), policies=store)


def test_the_builtin_set_loads_and_has_unique_ids() -> None:
    snapshot = load_policies()
    assert {"ladder.run", "tier0.never_autonomous", "freeze.cab", "breaker.open", "kill_switch"} <= set(snapshot.by_id)
    assert snapshot.source == "(built-in)"
    assert len(snapshot.hash) == 16


@pytest.mark.parametrize(
    ("text", "where", "why"),
    [
        (
            '@id("a")\npermit (principal, action, resource);\n\n@id("b")\nforbid (principal, action,\n',
            "bad.cedar:4",
            "",
        ),
        (
            '@id("a")\npermit (principal, action == Action::"run", resource)\nwhen { context.levle >= 3 };\n',
            "bad.cedar:1",
            "levle",
        ),
        ('permit (principal, action == Action::"run", resource);\n', "bad.cedar:1", "@id"),
        (
            '@id("x")\npermit (principal, action, resource);\n// comment\n'
            '@id("x")\nforbid (principal, action, resource);\n',
            "bad.cedar:4",
            "already used at bad.cedar:1",
        ),
        ('@id("x")\n@fallback("maybe")\nforbid (principal, action, resource);\n', "bad.cedar:1", "fallback"),
        (
            '@id("x")\n@fallback("approve")\n@quorum("zero")\nforbid (principal, action, resource);\n',
            "bad.cedar:1",
            "quorum",
        ),
    ],
)
def test_an_invalid_policy_names_file_line_and_reason(tmp_path: Path, text: str, where: str, why: str) -> None:
    directory = copy_builtin(tmp_path)
    (directory / "bad.cedar").write_text(text)
    with pytest.raises(PolicyError) as raised:
        load_policies(directory)
    assert isinstance(raised.value, ConfigurationError)
    assert str(raised.value).startswith(where), str(raised.value)
    assert why in str(raised.value)


def test_statements_keep_their_lines_through_strings_and_comments() -> None:
    text = (
        '// a ; comment\n@id("a;b")\npermit (principal, action, resource)\nwhen { "x;y" == "x;y" };\n\n'
        '@id("c")\nforbid (principal, action, resource);'
    )
    statements = split_statements(text, "f.cedar")
    assert [s.line for s in statements] == [2, 6]


def test_a_policy_dir_replaces_the_builtin_set_and_may_carry_its_own_schema(tmp_path: Path) -> None:
    directory = tmp_path / "mine"
    directory.mkdir()
    (directory / "all.cedar").write_text('@id("nothing.runs")\nforbid (principal, action, resource);\n')
    snapshot = load_policies(directory)
    assert list(snapshot.by_id) == ["nothing.runs"]
    assert snapshot.hash != load_policies().hash
    assert governance(PolicyStore(directory)).evaluate(facts(), snapshot).outcome is Outcome.DENY
    (directory / "a.cedarschema").write_text("entity Agent;\n")
    with pytest.raises(PolicyError, match=r"all\.cedar:1: policy nothing\.runs"):
        load_policies(directory)


def test_missing_dir_or_no_files_stop_the_start(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="does not exist"):
        PolicyStore(tmp_path / "nope")
    with pytest.raises(PolicyError, match=r"no \.cedar files"):
        PolicyStore(tmp_path)


def test_a_changed_file_is_re_read_and_an_invalid_change_keeps_the_old_set(tmp_path: Path) -> None:
    directory = copy_builtin(tmp_path)
    store = PolicyStore(directory, check_seconds=0)
    gov = governance(store)
    first = store.current().hash
    assert gov.evaluate(facts(), store.current()).outcome is Outcome.ALLOW

    extra = directory / "local.cedar"
    extra.write_text(
        '@id("local.no_search")\nforbid (principal, action, resource) when { resource == Service::"search" };\n'
    )
    decision = gov.evaluate(facts(), store.current())
    assert decision.outcome is Outcome.DENY
    assert "local.no_search" in decision.policy_ids
    assert decision.policy_hash == store.current().hash != first

    second = store.current().hash
    extra.write_text("this is not cedar")
    os.utime(extra, ns=(1, 1))
    assert store.current().hash == second, "an invalid change is refused; the last good set stays"
    assert "local.cedar:1" in (store.last_error or "")


def test_a_reload_during_decisions_never_mixes_two_sets(tmp_path: Path) -> None:
    """Each decision is made entirely under the old or the new set and records the hash of that set."""
    directory = copy_builtin(tmp_path)
    store = PolicyStore(directory, check_seconds=0)
    gov = Governance(Catalog(builtin_packs()), NoInventory(), PolicyData(), policies=store)
    old = store.current().hash
    deny = '@id("local.freeze_all")\nforbid (principal, action, resource);\n'
    new = compile_policies(
        [*[(p.name, p.read_text()) for p in sorted(directory.glob("*.cedar"))], ("z.cedar", deny)]
    ).hash
    seen: list[tuple[str, Outcome]] = []
    stop = threading.Event()

    def decide() -> None:
        while not stop.is_set():
            snapshot = store.current()
            decision = gov.evaluate(facts(), snapshot)
            seen.append((decision.policy_hash, decision.outcome))

    threads = [threading.Thread(target=decide) for _ in range(3)]
    for thread in threads:
        thread.start()
    staged = tmp_path / "z.cedar.new"  # as a ConfigMap update or an editor does it: the new file appears whole
    staged.write_text(deny)
    staged.replace(directory / "z.cedar")
    while len(seen) < 100 or not any(h != old for h, _ in seen[-50:]):
        threading.Event().wait(0.01)
    stop.set()
    for thread in threads:
        thread.join()
    assert {h for h, _ in seen} <= {old, new}
    assert all(outcome is (Outcome.ALLOW if h == old else Outcome.DENY) for h, outcome in seen)
    assert gov.evaluate(facts(), store.current()).policy_hash == new  # threads finish in any order; now it is new


def test_an_evaluation_error_fails_closed() -> None:
    overflow = (
        '@id("overflow")\npermit (principal, action == Action::"run", resource)\n'
        "when { context.level * 9223372036854775807 > 1 };\n"
    )
    snapshot = compile_policies([("overflow.cedar", overflow)])
    decision = governance(PolicyStore()).evaluate(facts(level=3), snapshot)
    assert decision.outcome is Outcome.DENY
    assert decision.policy_ids == ("governance.fail_closed",)
    assert "evaluation error" in decision.reasons[0]


def test_an_exception_while_deciding_fails_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    from actiondesk.agents.governance import engine

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("engine broke")

    gov = governance(PolicyStore())
    monkeypatch.setattr(engine.cedarpy, "is_authorized", boom)
    monkeypatch.setattr(gov, "facts", lambda *a, **k: facts())
    from actiondesk.core.plan import ActionCall

    decision = gov.decide(ActionCall(action="rollback_deployment", params={"service": "x", "to_version": "v1"}), NOW)
    assert decision.outcome is Outcome.DENY
    assert decision.policy_ids == ("governance.fail_closed",)
