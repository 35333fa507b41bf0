"""The service catalog file: what it reads, every way it is refused (with file:line), and reloading on change."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from actiondesk.adapters.catalog import CatalogError, ReloadingCatalog, load_catalog, parse_catalog
from actiondesk.core.catalog import DEFAULT_SIGNALS
from actiondesk.core.errors import ConfigurationError, UnknownServiceError

REPO = Path(__file__).resolve().parents[3]
SAMPLE = REPO / "deploy" / "services.example.yaml"

GOOD = textwrap.dedent(
    """\
    services:
      payment-gateway:
        tier: 1
        environment: production
        depends_on: [orders-db]
        aliases: [payments, pgw]
        description: Card payments for the shop
        owner: {team: payments, group: sre}
        signals:
          error_rate: sum(rate(errors_total{service="{service}"}[{window}]))
        kubernetes: {namespace: shop, deployment: payment-gateway}
        argocd: {application: payment-gateway}
      orders-db:
        tier: 2
        environment: production
        cicd: {repository: shop/orders-db, workflow: rollback.yml}
    """
)


def problems(text: str) -> list[str]:
    with pytest.raises(CatalogError) as caught:
        parse_catalog(textwrap.dedent(text), "svc.yaml")
    return caught.value.lines()


def test_a_full_entry_is_read_with_its_refs_and_its_signals() -> None:
    catalog = parse_catalog(GOOD, "svc.yaml")
    pgw = catalog.entry("payment-gateway")
    assert pgw.service.tier == 1
    assert pgw.service.depends_on == ("orders-db",)
    assert pgw.service.aliases == ("payments", "pgw")
    assert pgw.service.owner is not None
    assert pgw.service.owner.group == "sre"
    assert pgw.service.production
    assert pgw.kubernetes is not None
    assert pgw.kubernetes.namespace == "shop"
    assert pgw.argocd is not None
    assert pgw.argocd.application == "payment-gateway"
    assert pgw.cicd is None
    assert pgw.query("error_rate", "5m") == 'sum(rate(errors_total{service="payment-gateway"}[5m]))'
    db = catalog.entry("orders-db")
    assert db.cicd is not None
    assert (db.cicd.ref, db.cicd.version_input) == ("main", "version")
    assert db.kubernetes is None
    assert db.argocd is None
    assert [s.name for s in catalog.services()] == ["payment-gateway", "orders-db"]


def test_a_missing_signal_falls_back_to_the_default_query() -> None:
    catalog = parse_catalog(GOOD, "svc.yaml")
    pgw, db = catalog.entry("payment-gateway"), catalog.entry("orders-db")
    expected = DEFAULT_SIGNALS["latency_p95"].replace("{service}", "payment-gateway").replace("{window}", "1m")
    assert pgw.query("latency_p95", "1m") == expected
    assert db.query("error_rate", "5m") == DEFAULT_SIGNALS["error_rate"].replace("{service}", "orders-db").replace(
        "{window}", "5m"
    )
    assert set(db.signals) == set(DEFAULT_SIGNALS)


def test_an_unknown_service_names_the_catalog() -> None:
    catalog = parse_catalog(GOOD, "svc.yaml")
    with pytest.raises(UnknownServiceError, match=r"'nope'.*svc\.yaml"):
        catalog.entry("nope")


def test_the_sample_catalog_of_the_repository_validates() -> None:
    catalog = load_catalog(SAMPLE)
    assert {"payment-gateway", "orders-db", "storefront"} <= set(catalog.entries)


def test_an_unknown_dependency_is_named_with_its_line() -> None:
    lines = problems(
        """\
        services:
          a:
            tier: 1
            environment: production
            depends_on:
              - b
              - ghost
          b: {tier: 2, environment: production}
        """
    )
    assert lines == ["svc.yaml:7: services.a.depends_on: 'ghost' is not a service of this catalog"]


def test_an_unknown_key_is_named_with_its_line() -> None:
    lines = problems(
        """\
        services:
          a:
            tier: 1
            environment: production
            kubernetes: {namespace: shop, deployment: a, cluster: eu}
            teir: 2
        """
    )
    assert "svc.yaml:5: services.a.kubernetes.cluster: unknown key 'cluster'" in lines
    assert "svc.yaml:6: services.a.teir: unknown key 'teir'" in lines


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("tier: one\n    environment: production", "svc.yaml:3: services.a.tier: Input should be a valid integer"),
        ("tier: '1'\n    environment: production", "svc.yaml:3: services.a.tier: Input should be a valid integer"),
        ("tier: 9\n    environment: production", "svc.yaml:3: services.a.tier: Input should be less than or equal"),
        ("tier: 1\n    environment: [prod]", "svc.yaml:4: services.a.environment: Input should be a valid string"),
        ("tier: 1\n    environment: production\n    aliases: pay", "svc.yaml:5: services.a.aliases: Input should be"),
        ("tier: 1\n    environment: production\n    owner: sre", "svc.yaml:5: services.a.owner: Input should be"),
        ("tier: 1", "svc.yaml:2: services.a.environment: required key is missing"),
        (
            "tier: 1\n    environment: production\n    signals: {error_rate: ''}",
            "svc.yaml:5: services.a.signals.error_rate: String should have at least 1 character",
        ),
        (
            "tier: 1\n    environment: production\n    cicd: {repository: no-slash, workflow: r.yml}",
            "svc.yaml:5: services.a.cicd.repository: 'no-slash' is not a valid value here",
        ),
    ],
)
def test_a_wrong_type_is_named_with_its_line(body: str, expected: str) -> None:
    lines = problems(f"services:\n  a:\n    {body}\n")
    assert any(line.startswith(expected) for line in lines), lines


def test_an_alias_two_services_share_is_refused() -> None:
    lines = problems(
        """\
        services:
          a: {tier: 1, environment: production, aliases: [pay]}
          b:
            tier: 1
            environment: production
            aliases: [bee, pay]
        """
    )
    assert lines == ["svc.yaml:6: services.b.aliases: 'pay' is already an alias of 'a'"]


def test_an_alias_that_is_another_services_name_is_refused() -> None:
    lines = problems(
        """\
        services:
          a: {tier: 1, environment: production}
          b: {tier: 1, environment: production, aliases: [a]}
        """
    )
    assert lines == ["svc.yaml:3: services.b.aliases: 'a' is the name of service 'a'"]


def test_a_dependency_cycle_is_refused_naming_its_path() -> None:
    lines = problems(
        """\
        services:
          a: {tier: 1, environment: production, depends_on: [b]}
          b: {tier: 1, environment: production, depends_on: [c]}
          c: {tier: 1, environment: production, depends_on: [a]}
        """
    )
    assert lines == ["svc.yaml:2: dependency cycle: a -> b -> c -> a"]


def test_a_self_dependency_is_refused() -> None:
    lines = problems("services:\n  a: {tier: 1, environment: production, depends_on: [a]}\n")
    assert "svc.yaml:2: services.a.depends_on: a service cannot depend on itself" in lines


def test_a_key_given_twice_is_refused() -> None:
    lines = problems("services:\n  a: {tier: 1, environment: production}\n  a: {tier: 2, environment: staging}\n")
    assert lines == ["svc.yaml:3: key 'a' appears twice in one mapping"]


def test_broken_yaml_names_its_line() -> None:
    lines = problems("services:\n  a: {tier: 1,\n  b: [\n")
    assert len(lines) == 1
    assert lines[0].startswith("svc.yaml:")
    assert "not valid YAML" in lines[0]


@pytest.mark.parametrize("text", ["", "services: {}\n", "- a\n", "services:\n  Bad_Name: {tier: 1, environment: x}\n"])
def test_an_empty_or_misshapen_file_is_refused(text: str) -> None:
    assert problems(text)


def test_every_problem_is_reported_at_once() -> None:
    lines = problems(
        """\
        services:
          a: {tier: 0, environment: production, colour: red}
          b: {tier: 1}
        """
    )
    assert len(lines) == 3


def test_a_catalog_error_is_a_configuration_error_and_an_unreadable_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot be read"):
        load_catalog(tmp_path / "missing.yaml")


def _write(path: Path, text: str, stamp: int) -> None:
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    os.utime(path, ns=(stamp, stamp))  # a distinct mtime even on a coarse-grained file system


def test_the_holder_rereads_a_changed_file_without_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "services.yaml"
    _write(path, "services:\n  a: {tier: 1, environment: production}\n", 1_000_000_000)
    seen = []
    holder = ReloadingCatalog(path, on_reload=seen.append)
    assert set(holder.current().entries) == {"a"}
    _write(
        path, "services:\n  a: {tier: 1, environment: production}\n  b: {tier: 2, environment: staging}\n", 2 * 10**9
    )
    assert set(holder.current().entries) == {"a", "b"}
    assert len(seen) == 1
    assert set(seen[0].entries) == {"a", "b"}


def test_a_bad_edit_keeps_the_last_good_catalog_and_logs_file_and_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "services.yaml"
    _write(path, "services:\n  a: {tier: 1, environment: production}\n", 1_000_000_000)
    holder = ReloadingCatalog(path)
    _write(path, "services:\n  a: {tier: 1, environment: production, depends_on: [ghost]}\n", 2 * 10**9)
    with caplog.at_level(logging.ERROR):
        catalog = holder.current()
        holder.current()
    assert set(catalog.entries) == {"a"}
    assert catalog.entry("a").service.depends_on == ()
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert f"{path}:2: services.a.depends_on: 'ghost'" in errors[0]
    assert holder.last_error is not None
    path.unlink()
    assert set(holder.current().entries) == {"a"}  # a vanished file keeps it too
    _write(path, "services:\n  c: {tier: 3, environment: staging}\n", 3 * 10**9)
    assert set(holder.current().entries) == {"c"}
    assert holder.last_error is None


def test_the_holder_refuses_to_start_on_a_bad_file(tmp_path: Path) -> None:
    path = tmp_path / "services.yaml"
    path.write_text("services:\n  a: {tier: 1}\n", encoding="utf-8")
    with pytest.raises(CatalogError, match=r"services\.yaml:2: services\.a\.environment"):
        ReloadingCatalog(path)


def _cli(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(cwd), "LANG": "C.UTF-8"}
    return subprocess.run(
        [sys.executable, "-m", "actiondesk", "services", "validate", *args],
        cwd=cwd,
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_services_validate_exits_0_on_a_good_file_and_1_with_file_line_errors(tmp_path: Path) -> None:
    good = _cli(tmp_path, str(SAMPLE))
    assert good.returncode == 0, good.stderr
    assert "3 services, valid" in good.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text("services:\n  a:\n    tier: 1\n    environment: production\n    depends_on: [b]\n", "utf-8")
    done = _cli(tmp_path, str(bad))
    assert done.returncode == 1
    assert done.stderr.strip() == f"{bad}:5: services.a.depends_on: 'b' is not a service of this catalog"


def test_services_validate_reads_the_configured_file_by_default(tmp_path: Path) -> None:
    done = _cli(tmp_path, env={"ACTIONDESK_SERVICES_FILE": str(SAMPLE)})
    assert done.returncode == 0, done.stderr
    assert _cli(tmp_path).returncode == 2
