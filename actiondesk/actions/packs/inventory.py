"""The estate's services and how they depend on each other, read-only: the topology an investigation follows."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from actiondesk.actions.catalog import Pack
from actiondesk.actions.spec import ActionContext, ActionInput, ActionOutput, ActionSpec
from actiondesk.core.governance import Risk


class ServiceEntry(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    tier: int = Field(description="0 is the most critical.")
    environment: str
    version: str
    depends_on: tuple[str, ...] = Field(description="The services it calls, as the catalog declares them.")
    description: str
    aliases: tuple[str, ...]


class ListServicesInput(ActionInput):
    """No parameters: the whole estate."""


class ListServicesOutput(ActionOutput):
    services: tuple[ServiceEntry, ...]

    def summary(self) -> str:
        return f"{len(self.services)} services: {', '.join(s.name for s in self.services)}"


class ListServices(ActionSpec[ListServicesInput, ListServicesOutput]):
    name = "list_services"
    description = "List the estate's services with their tier, environment, version, description and dependencies."
    pack = "inventory"
    scope = "inventory:read"
    risk = Risk.READ
    input_model = ListServicesInput
    output_model = ListServicesOutput

    def run(self, ctx: ActionContext, params: ListServicesInput) -> ListServicesOutput:
        return ListServicesOutput(
            services=tuple(
                ServiceEntry(
                    name=s.name,
                    tier=s.tier,
                    environment=s.environment,
                    version=s.version,
                    depends_on=s.depends_on,
                    description=s.description,
                    aliases=s.aliases,
                )
                for s in ctx.inventory.services()
            )
        )


INVENTORY = Pack(name="inventory", scopes=frozenset({"inventory:read"}), actions=(ListServices(),))
