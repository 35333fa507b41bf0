"""Declarative HTTP actions: a pack file (YAML) binds actions to operations of an OpenAPI document.

The pack file names the document, and for each action its operationId, the parameters a planner fills (a
small JSON-schema subset that becomes the action's input model), how they map onto the operation's path,
query and body, its scope, risk and destructiveness, and for a mutating action its observe, drift, snapshot,
inverse and verify, each made of read actions of the same pack. Credentials are never in the file: it names
the credential, which comes from settings. Requests go through the HttpOperations port, whose adapter
validates each one against the document before it is sent.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationError, create_model

from actiondesk.actions.catalog import Pack
from actiondesk.actions.spec import ActionContext, ActionInput, ActionOutput, ActionSpec, need
from actiondesk.core import yamltext
from actiondesk.core.errors import ActionFailedError, ConfigurationError
from actiondesk.core.governance import Risk
from actiondesk.core.plan import ActionCall

_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_.]*)\}")
_TYPES: dict[str, type] = {"string": str, "integer": int, "number": float, "boolean": bool}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ParamDecl(_Strict):
    type: Literal["string", "integer", "number", "boolean"]
    description: str
    pattern: str | None = None
    enum: list[str | int] | None = None
    minimum: float | None = None
    maximum: float | None = None
    max_length: int | None = Field(default=None, alias="maxLength")
    default: JsonValue = None
    required: bool = True


class RequestMap(_Strict):
    path: dict[str, str] = {}
    query: dict[str, str] = {}
    body: JsonValue = None


class ReadRef(_Strict):
    """Call a read action of the pack and keep some top-level fields of its answer."""

    read: str
    params: dict[str, JsonValue] = {}
    fields: list[str] = []


class DriftRule(_Strict):
    field: str
    equals: JsonValue = None
    not_equals: JsonValue = None
    message: str


class VerifyRef(_Strict):
    read: str
    params: dict[str, JsonValue] = {}
    expect: dict[str, JsonValue]


class ActionDecl(_Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]{2,62}$")
    description: str
    operation: str
    scope: str
    risk: Risk
    destructive: bool = False
    target: str = ""
    params: dict[str, ParamDecl] = {}
    request: RequestMap = RequestMap()
    observe: ReadRef | None = None
    drift: list[DriftRule] = []
    snapshot: ReadRef | None = None
    inverse: ActionCall | None = None
    verify: VerifyRef | None = None


class PackFile(_Strict):
    pack: str = Field(pattern=r"^[a-z][a-z0-9-]{1,40}$")
    description: str = ""
    service_account: str
    credential: str | None = Field(default=None, description="Name of the secret in ACTIONDESK_PACK_CREDENTIALS.")
    openapi: str = Field(description="The OpenAPI document, relative to the pack file.")
    actions: list[ActionDecl]


def fill(template: JsonValue, values: dict[str, Any]) -> JsonValue:
    """Replace ``{name}`` placeholders. A string that is exactly one placeholder keeps the value's type."""
    if isinstance(template, dict):
        return {k: fill(v, values) for k, v in template.items()}
    if isinstance(template, list):
        return [fill(v, values) for v in template]
    if not isinstance(template, str):
        return template
    whole = _PLACEHOLDER.fullmatch(template)
    if whole:
        found: JsonValue = _lookup(values, whole.group(1))
        return found
    return _PLACEHOLDER.sub(lambda m: str(_lookup(values, m.group(1))), template)


def _lookup(values: dict[str, Any], dotted: str) -> Any:
    node: Any = values
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            raise ActionFailedError(f"nothing to fill {{{dotted}}} with")
        node = node[part]
    return node


def input_model(decl: ActionDecl) -> type[ActionInput]:
    fields: dict[str, Any] = {}
    for name, p in decl.params.items():
        kind: Any = _TYPES[p.type]
        if p.enum is not None:
            kind = Literal[tuple(p.enum)]
        constraints: dict[str, Any] = {"description": p.description}
        if p.pattern is not None:
            constraints["pattern"] = p.pattern
        if p.minimum is not None:
            constraints["ge"] = p.minimum
        if p.maximum is not None:
            constraints["le"] = p.maximum
        if p.max_length is not None:
            constraints["max_length"] = p.max_length
        if p.required and p.default is None:
            fields[name] = (kind, Field(**constraints))
        else:
            fields[name] = (kind | None, Field(default=p.default, **constraints))
    return create_model(f"{decl.name.title().replace('_', '')}Input", __base__=ActionInput, **fields)


class HttpOutput(ActionOutput):
    action: str
    status: int
    body: JsonValue = None

    def summary(self) -> str:
        return f"{self.action}: HTTP {self.status}"


class HttpActionSpec(ActionSpec[ActionInput, HttpOutput]):
    """One declared action. ``pack_of`` resolves the read actions its hooks use."""

    output_model = HttpOutput

    def __init__(self, pack: str, decl: ActionDecl, siblings: dict[str, HttpActionSpec]) -> None:
        self.name = decl.name
        self.description = decl.description
        self.pack = pack
        self.scope = decl.scope
        self.risk = decl.risk
        self.destructive = decl.destructive
        self.input_model = input_model(decl)
        self.decl = decl
        self._siblings = siblings

    def target(self, params: ActionInput) -> str:
        values = params.model_dump()
        return str(fill(self.decl.target, values)) if self.decl.target else self.pack

    def run(self, ctx: ActionContext, params: ActionInput) -> HttpOutput:
        values = params.model_dump()
        request = self.decl.request
        result = need(ctx.http, f"the {self.pack} HTTP pack").call(
            self.pack,
            self.decl.operation,
            path={k: str(fill(v, values)) for k, v in request.path.items()},
            query={k: str(v) for k, v in ((k, fill(v, values)) for k, v in request.query.items()) if v is not None},
            body=fill(request.body, values),
        )
        return HttpOutput(action=self.name, status=result.status, body=result.body)

    def _read(self, ctx: ActionContext, ref: ReadRef | VerifyRef, values: dict[str, Any]) -> dict[str, JsonValue]:
        reader = self._siblings[ref.read]
        params = reader.input_model.model_validate(fill(ref.params, values))
        body = reader.run(ctx, params).body
        if not isinstance(body, dict):
            raise ActionFailedError(f"{ref.read} answered no JSON object")
        return body

    def observe(self, ctx: ActionContext, params: ActionInput) -> dict[str, JsonValue]:
        ref = self.decl.observe
        if ref is None:
            return {}
        body = self._read(ctx, ref, params.model_dump())
        return {f: body.get(f) for f in ref.fields}

    def drift(self, observed: dict[str, JsonValue], params: ActionInput) -> str | None:
        values = {**params.model_dump(), "observed": observed}
        for rule in self.decl.drift:
            live = observed.get(rule.field)
            if rule.equals is not None and live == fill(rule.equals, values):
                return str(fill(rule.message, values))
            if rule.not_equals is not None and live != fill(rule.not_equals, values):
                return str(fill(rule.message, values))
        return None

    def snapshot(self, ctx: ActionContext, params: ActionInput) -> dict[str, JsonValue]:
        ref = self.decl.snapshot
        if ref is None:
            return {}
        body = self._read(ctx, ref, params.model_dump())
        return {f: body.get(f) for f in ref.fields}

    def inverse(self, snapshot: dict[str, JsonValue], params: ActionInput) -> ActionCall | None:
        undo = self.decl.inverse
        if undo is None or not snapshot:
            return None
        values = {**params.model_dump(), "snapshot": snapshot}
        filled = fill(dict(undo.params), values)
        assert isinstance(filled, dict)
        return ActionCall(action=undo.action, params=filled)

    def verify(self, ctx: ActionContext, params: ActionInput, output: HttpOutput) -> str | None:
        ref = self.decl.verify
        if ref is None:
            return None
        values = params.model_dump()
        body = self._read(ctx, ref, values)
        for field, wanted in ref.expect.items():
            if body.get(field) != fill(wanted, values):
                return f"{self.name}: {field} is {body.get(field)!r}, not {fill(wanted, values)!r}"
        return None


def read_pack_file(path: Path) -> tuple[PackFile, dict[str, Any]]:
    """The pack file and its OpenAPI document; ConfigurationError naming the file and the problem."""
    try:
        raw = yamltext.safe_load(path.read_text(encoding="utf-8"))
        pack = PackFile.model_validate(raw)
    except OSError as exc:
        raise ConfigurationError(f"{path}: cannot read the pack file: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"{path}: not YAML: {exc}") from None
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(file)'}: {e['msg']}" for e in exc.errors())
        raise ConfigurationError(f"{path}: {problems}") from None
    document_path = path.parent / pack.openapi
    try:
        document = yamltext.safe_load(document_path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigurationError(f"{path}: cannot read its OpenAPI document {pack.openapi}: {exc}") from None
    if not isinstance(document, dict) or "paths" not in document:
        raise ConfigurationError(f"{path}: {pack.openapi} is not an OpenAPI document (no paths)")
    return pack, document


def operations(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """operationId → {"method", "path", "parameters"} for every operation in the document."""
    found: dict[str, dict[str, Any]] = {}
    for route, item in (document.get("paths") or {}).items():
        shared = item.get("parameters", [])
        for method, op in item.items():
            if isinstance(op, dict) and "operationId" in op:
                found[op["operationId"]] = {
                    "method": method.upper(),
                    "path": route,
                    "parameters": {(p.get("in"), p.get("name")) for p in [*shared, *op.get("parameters", [])]},
                }
    return found


def check(pack: PackFile, document: dict[str, Any]) -> list[str]:
    """Every problem of a pack file against its document and itself (empty: valid)."""
    problems: list[str] = []
    ops = operations(document)
    names = {a.name for a in pack.actions}
    reads = {a.name for a in pack.actions if a.risk is Risk.READ}
    for a in pack.actions:
        where = f"action {a.name}"
        op = ops.get(a.operation)
        if op is None:
            problems.append(f"{where}: operationId {a.operation!r} is not in {pack.openapi}")
            continue
        for kind, mapping in (("path", a.request.path), ("query", a.request.query)):
            for name in mapping:
                if (kind, name) not in op["parameters"]:
                    problems.append(f"{where}: {op['method']} {op['path']} has no {kind} parameter {name!r}")
        for name in re.findall(r"\{([^}]+)\}", op["path"]):
            if name not in a.request.path:
                problems.append(f"{where}: path parameter {name!r} of {op['path']} is not mapped")
        for ref in (a.observe, a.snapshot, a.verify):
            if ref is not None and ref.read not in reads:
                problems.append(f"{where}: {ref.read!r} is not a read action of this pack")
        if a.risk is not Risk.READ and (a.snapshot is None or a.inverse is None):
            problems.append(f"{where}: a mutating action needs a snapshot and an inverse")
        if a.destructive and (a.observe is None or not a.drift):
            problems.append(f"{where}: a destructive action needs an observe probe and drift rules")
        if a.inverse is not None and a.inverse.action not in names:
            problems.append(f"{where}: its inverse {a.inverse.action!r} is not an action of this pack")
    return problems


def load_pack(path: Path) -> Pack:
    """Build the pack from its file; ConfigurationError with every problem when it does not check."""
    pack_file, document = read_pack_file(path)
    problems = check(pack_file, document)
    if problems:
        raise ConfigurationError(f"{path}: " + "; ".join(problems))
    siblings: dict[str, HttpActionSpec] = {}
    for decl in pack_file.actions:
        siblings[decl.name] = HttpActionSpec(pack_file.pack, decl, siblings)
    return Pack(
        name=pack_file.pack,
        scopes=frozenset(a.scope for a in pack_file.actions),
        actions=tuple(siblings.values()),
        service_account=pack_file.service_account,
        credential=pack_file.credential,
        description=pack_file.description,
    )


def builtin_pack_files() -> list[Path]:
    """The pack files shipped with ActionDesk (their OpenAPI documents end in .openapi.yaml)."""
    folder = Path(__file__).parent / "packs" / "http"
    return sorted(p for p in folder.glob("*.yaml") if not p.name.endswith(".openapi.yaml"))
