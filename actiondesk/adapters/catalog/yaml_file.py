"""The service catalog read from YAML, every problem reported as ``file:line: message``::

    services:
      payment-gateway:
        tier: 1
        environment: production
        depends_on: [orders-db]
        aliases: [payments, pgw]
        description: Card payments for the shop
        owner: {team: payments, group: sre}
        signals:                 # PromQL; {service} and {window} are substituted
          error_rate: sum(rate(http_requests_total{service="{service}",code=~"5.."}[{window}])) / ...
        kubernetes: {namespace: shop, deployment: payment-gateway}   # optional
        argocd: {application: payment-gateway}                       # optional
        cicd: {repository: shop/payment-gateway, workflow: rollback.yml, ref: main, version_input: version}

The YAML is composed into nodes first so each key and value keeps the line it was written on; the values are then
checked by pydantic models that forbid unknown keys and coerce nothing, and the file as a whole is checked for
dependencies on services it does not define, aliases two services share, and dependency cycles. A signal the
file does not spell out falls back to ``DEFAULT_SIGNALS``.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError
from pydantic_core import ErrorDetails

from actiondesk.core.catalog import DEFAULT_SIGNALS, ArgoCdRef, CatalogEntry, CiCdRef, KubernetesRef, ServiceCatalog
from actiondesk.core.errors import ConfigurationError
from actiondesk.core.estate import Owner, Service

log = logging.getLogger(__name__)

_NAME = r"^[a-z0-9]([a-z0-9._-]{0,62}[a-z0-9])?$"
_K8S_NAME = r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"
_SIGNAL = r"^[a-z][a-z0-9_]{0,63}$"

Name = Annotated[str, StringConstraints(pattern=_NAME)]
Text = Annotated[str, StringConstraints(min_length=1, max_length=500)]
K8sName = Annotated[str, StringConstraints(pattern=_K8S_NAME)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class OwnerModel(_Strict):
    team: Text
    group: Text


class KubernetesModel(_Strict):
    namespace: K8sName
    deployment: K8sName


class ArgoCdModel(_Strict):
    application: K8sName


class CiCdModel(_Strict):
    repository: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")]
    workflow: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]+\.ya?ml$|^[0-9]+$")]
    ref: Annotated[str, StringConstraints(min_length=1, max_length=255)] = "main"
    version_input: Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_-]{0,99}$")] = "version"


class ServiceModel(_Strict):
    tier: int = Field(ge=1, le=4)
    environment: Name
    depends_on: list[Name] = Field(default_factory=list)
    aliases: list[Name] = Field(default_factory=list)
    description: Annotated[str, StringConstraints(max_length=500)] = ""
    owner: OwnerModel | None = None
    signals: dict[Annotated[str, StringConstraints(pattern=_SIGNAL)], Text] = Field(default_factory=dict)
    kubernetes: KubernetesModel | None = None
    argocd: ArgoCdModel | None = None
    cicd: CiCdModel | None = None


class CatalogFile(_Strict):
    services: dict[Name, ServiceModel] = Field(min_length=1)


@dataclass(frozen=True, slots=True)
class Problem:
    line: int | None
    message: str


class CatalogError(ConfigurationError):
    """The catalog file does not validate. ``problems`` holds each one with its line (1-based) when known; the
    message lists them as ``file:line: message``, one a line."""

    def __init__(self, source: str, problems: list[Problem]) -> None:
        self.source = source
        self.problems = problems
        super().__init__("\n".join(self.lines()))

    def lines(self) -> list[str]:
        return [
            f"{self.source}:{p.line}: {p.message}" if p.line else f"{self.source}: {p.message}" for p in self.problems
        ]


class _Loader(yaml.SafeLoader):
    """SafeLoader whose booleans are only true/false (YAML 1.2): ``environment: no`` stays a text."""


_BOOL = "tag:yaml.org,2002:bool"
_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _BOOL]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(_BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))

Path_ = tuple[str | int, ...]


def _plain(node: yaml.Node, loader: _Loader, path: Path_, lines: dict[Path_, int], problems: list[Problem]) -> Any:
    """The node as plain Python, recording the line of every path (a key's line for a mapping value)."""
    if len(path) > 20:
        raise yaml.YAMLError("nested too deep (a recursive alias?)")
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                problems.append(Problem(key_node.start_mark.line + 1, "a key must be a plain name"))
                continue
            key = loader.construct_object(key_node)
            if key in out:
                problems.append(Problem(key_node.start_mark.line + 1, f"key {key!r} appears twice in one mapping"))
                continue
            lines[(*path, key)] = key_node.start_mark.line + 1
            out[key] = _plain(value_node, loader, (*path, key), lines, problems)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_plain(item, loader, (*path, i), lines, problems) for i, item in enumerate(node.value)]
    return loader.construct_object(node)


def _line(lines: dict[Path_, int], loc: tuple[int | str, ...]) -> int | None:
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None


def _where(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def _reason(error: ErrorDetails) -> str:
    kind = error["type"]
    if kind == "missing":
        return "required key is missing"
    if kind == "extra_forbidden":
        return f"unknown key {error['loc'][-1]!r}"
    if kind == "string_pattern_mismatch":
        return f"{error['input']!r} is not a valid value here"
    return error["msg"]


def _model_loc(error: ErrorDetails) -> tuple[int | str, ...]:
    # pydantic reports a bad dict key as (..., key, "[key]") and a union member's name as a step: drop those.
    return tuple(
        part for part in error["loc"] if not (isinstance(part, str) and (part == "[key]" or part.endswith("Model")))
    )


def _cycle(graph: dict[str, list[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(name: str) -> list[str] | None:
        state[name] = 1
        stack.append(name)
        for dep in graph.get(name, ()):
            if dep not in graph:
                continue
            if state.get(dep) == 1:
                return [*stack[stack.index(dep) :], dep]
            if dep not in state and (found := visit(dep)):
                return found
        stack.pop()
        state[name] = 2
        return None

    for name in graph:
        if name not in state and (found := visit(name)):
            return found
    return None


def _cross_check(parsed: CatalogFile, lines: dict[Path_, int]) -> list[Problem]:
    problems: list[Problem] = []
    services = parsed.services
    owners: dict[str, str] = {name: name for name in services}
    for name, svc in services.items():
        for i, dep in enumerate(svc.depends_on):
            where = lines.get(("services", name, "depends_on", i))
            if dep == name:
                problems.append(Problem(where, f"services.{name}.depends_on: a service cannot depend on itself"))
            elif dep not in services:
                problems.append(Problem(where, f"services.{name}.depends_on: {dep!r} is not a service of this catalog"))
        for i, alias in enumerate(svc.aliases):
            where = lines.get(("services", name, "aliases", i))
            holder = owners.get(alias)
            if holder is None:
                owners[alias] = name
            elif holder == name and alias != name:
                problems.append(Problem(where, f"services.{name}.aliases: {alias!r} is listed twice"))
            elif holder != name:
                what = "the name of service" if alias in services else "already an alias of"
                problems.append(Problem(where, f"services.{name}.aliases: {alias!r} is {what} {holder!r}"))
    cycle = _cycle({name: svc.depends_on for name, svc in services.items()})
    if cycle:
        problems.append(
            Problem(lines.get(("services", cycle[0], "depends_on")), f"dependency cycle: {' -> '.join(cycle)}")
        )
    return problems


def _entry(name: str, svc: ServiceModel) -> CatalogEntry:
    return CatalogEntry(
        service=Service(
            name=name,
            tier=svc.tier,
            environment=svc.environment,
            version="",
            depends_on=tuple(svc.depends_on),
            aliases=tuple(svc.aliases),
            description=svc.description,
            owner=Owner(team=svc.owner.team, group=svc.owner.group) if svc.owner else None,
        ),
        signals=MappingProxyType({**DEFAULT_SIGNALS, **svc.signals}),
        kubernetes=KubernetesRef(svc.kubernetes.namespace, svc.kubernetes.deployment) if svc.kubernetes else None,
        argocd=ArgoCdRef(svc.argocd.application) if svc.argocd else None,
        cicd=CiCdRef(svc.cicd.repository, svc.cicd.workflow, svc.cicd.ref, svc.cicd.version_input)
        if svc.cicd
        else None,
    )


def parse_catalog(text: str, source: str = "<catalog>") -> ServiceCatalog:
    """The catalog in ``text``; CatalogError listing every problem with its line."""
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        reason = getattr(exc, "problem", None) or str(exc)
        raise CatalogError(source, [Problem(mark.line + 1 if mark else None, f"not valid YAML: {reason}")]) from None
    finally:
        loader.dispose()
    if root is None:
        raise CatalogError(source, [Problem(None, "the file is empty; it needs a services: mapping")])
    lines: dict[Path_, int] = {}
    problems: list[Problem] = []
    try:
        data = _plain(root, loader, (), lines, problems)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise CatalogError(source, [Problem(mark.line + 1 if mark else None, f"not valid YAML: {exc}")]) from None
    if problems:
        raise CatalogError(source, problems)
    try:
        parsed = CatalogFile.model_validate(data)
    except ValidationError as exc:
        seen: set[tuple[int | None, str]] = set()
        for error in exc.errors():
            loc = _model_loc(error)
            item = (_line(lines, loc), f"{_where(loc)}: {_reason(error)}")
            if item not in seen:
                seen.add(item)
                problems.append(Problem(*item))
        raise CatalogError(source, problems) from None
    problems = _cross_check(parsed, lines)
    if problems:
        raise CatalogError(source, problems)
    return ServiceCatalog(
        entries=MappingProxyType({name: _entry(name, svc) for name, svc in parsed.services.items()}), source=source
    )


def load_catalog(path: Path | str) -> ServiceCatalog:
    """The catalog in the file at ``path``; CatalogError when it cannot be read or does not validate."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogError(str(path), [Problem(None, f"cannot be read: {exc}")]) from None
    return parse_catalog(text, str(path))


class ReloadingCatalog:
    """The catalog of one file, re-read when the file changes: each ``current()`` compares the file's mtime and
    size with the last read, and on a difference reads it again (content compared by hash, so a touch re-parses
    nothing). A bad edit or a vanished file keeps the last good catalog and logs the ``file:line`` problems once
    per distinct content. The first load must succeed: ``__init__`` raises CatalogError otherwise."""

    def __init__(self, path: Path | str, *, on_reload: Callable[[ServiceCatalog], None] | None = None) -> None:
        self._path = Path(path)
        self._lock = threading.Lock()
        self._on_reload = on_reload
        self._stamp = self._stat()
        text = self._read_or_raise()
        self._digest = hashlib.sha256(text.encode()).hexdigest()
        self._catalog = parse_catalog(text, str(self._path))
        self._failed_digest: str | None = None
        self.last_error: CatalogError | None = None

    @property
    def path(self) -> Path:
        return self._path

    def _stat(self) -> tuple[int, int] | None:
        try:
            st = self._path.stat()
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size)

    def _read_or_raise(self) -> str:
        try:
            return self._path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CatalogError(str(self._path), [Problem(None, f"cannot be read: {exc}")]) from None

    def current(self) -> ServiceCatalog:
        """The catalog as the file now says, or the last good one when the file is now wrong."""
        stamp = self._stat()
        if stamp == self._stamp:
            return self._catalog
        with self._lock:
            if stamp != self._stamp:
                self._stamp = stamp
                self._reload()
            return self._catalog

    def _reload(self) -> None:
        try:
            text = self._read_or_raise()
        except CatalogError as exc:
            self._failed(exc, "unreadable")
            return
        digest = hashlib.sha256(text.encode()).hexdigest()
        if digest == self._digest:
            return
        try:
            catalog = parse_catalog(text, str(self._path))
        except CatalogError as exc:
            self._failed(exc, digest)
            return
        self._catalog, self._digest, self._failed_digest, self.last_error = catalog, digest, None, None
        log.info("service catalog %s reloaded: %d services", self._path, len(catalog.entries))
        if self._on_reload is not None:
            self._on_reload(catalog)

    def _failed(self, exc: CatalogError, digest: str) -> None:
        self.last_error = exc
        if digest != self._failed_digest:
            self._failed_digest = digest
            log.error("service catalog not reloaded, keeping the last good one:\n%s", exc)
