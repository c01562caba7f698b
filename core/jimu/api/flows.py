"""The API of the workflow runtime: flows and their versions, the node types on offer, runs.

The rules live in ``jimu.services.flows``; these controllers translate HTTP to its calls.
Designing and publishing needs ``flows.write``; acting at a run's waiting node ``flows.act``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import msgspec
from jimu.i18n import N_
from jimu.services import flows as service
from jimu.web.errors import document_errors
from jimu.web.guards import requires
from jimu.web.listing import RecordIdFilter, RecordIdParam
from jimu_sdk.errors import NotFound, ValidationFailed
from litestar import Controller, get, patch, post, put
from litestar.params import Parameter

Code = Annotated[str, msgspec.Meta(min_length=1, max_length=63)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Text = Annotated[str, msgspec.Meta(max_length=2000)]
VersionNumber = Annotated[int, Parameter(ge=1, le=1_000_000, description="version number")]


class FlowIn(msgspec.Struct, forbid_unknown_fields=True):
    code: Code
    name: Name
    description: Text = ""
    subject: Annotated[str, msgspec.Meta(max_length=63)] = ""
    graph: dict[str, Any] | None = None
    publish: bool = False  # publish version 1 at once (importing a finished flow)


class FlowPatch(msgspec.Struct, forbid_unknown_fields=True):
    name: Name | None = None
    description: Text | None = None


class FlowOut(msgspec.Struct):
    id: int
    code: str
    name: str
    description: str
    subject: str
    live_version: int | None
    created_at: dt.datetime
    updated_at: dt.datetime


class VersionSummary(msgspec.Struct):
    version: int
    status: str
    note: str
    created_at: dt.datetime
    published_at: dt.datetime | None
    running: int


class FlowDetail(FlowOut):
    versions: list[VersionSummary] = []


class VersionOut(msgspec.Struct):
    flow_id: int
    version: int
    status: str
    note: str
    graph: dict[str, Any]
    created_at: dt.datetime
    published_at: dt.datetime | None


class DraftIn(msgspec.Struct, forbid_unknown_fields=True):
    graph: dict[str, Any]
    note: Text = ""


class Problem(msgspec.Struct, omit_defaults=True):
    message: str
    node: str = ""
    edge: str = ""


class CheckOut(msgspec.Struct):
    ok: bool
    problems: list[Problem]


class MigrateIn(msgspec.Struct, forbid_unknown_fields=True):
    to_version: Annotated[int, msgspec.Meta(ge=1)]
    from_version: Annotated[int, msgspec.Meta(ge=1)] | None = None
    run_ids: Annotated[list[Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)]],
                       msgspec.Meta(max_length=10_000)] | None = None


class MigrateOut(msgspec.Struct):
    moved: list[int]
    kept: list[dict[str, Any]]


class NodeTypeOut(msgspec.Struct):
    key: str
    plugin: str
    title: dict[str, str]
    description: dict[str, str]
    icon: str
    category: str
    role: str
    outcomes: list[str] | None  # None: they depend on the settings
    settings_schema: dict[str, Any] | None


class OutcomesIn(msgspec.Struct, forbid_unknown_fields=True):
    settings: dict[str, Any] = {}


class OutcomesOut(msgspec.Struct):
    outcomes: list[str]


class RunOut(msgspec.Struct):
    id: int
    flow_id: int
    version: int
    subject: str
    node_id: str
    status: str
    stuck_reason: str
    data: dict[str, Any]
    actions: list[str]
    assignees: list[int]
    due_at: dt.datetime | None
    revision: int
    started_at: dt.datetime
    updated_at: dt.datetime
    completed_at: dt.datetime | None


class StepOut(msgspec.Struct):
    seq: int
    kind: str
    from_node: str
    node_id: str
    outcome: str
    action: str
    actor_id: int | None
    changes: dict[str, Any]
    note: str
    at: dt.datetime


class RunDetail(RunOut):
    steps: list[StepOut] = []


class StartIn(msgspec.Struct, forbid_unknown_fields=True):
    subject: Annotated[str, msgspec.Meta(max_length=100)] = ""
    data: dict[str, Any] = {}


class ActionIn(msgspec.Struct, forbid_unknown_fields=True):
    action: Annotated[str, msgspec.Meta(min_length=1, max_length=63)]
    payload: dict[str, Any] = {}
    revision: Annotated[int, msgspec.Meta(ge=0)] | None = None


class CancelIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: Text = ""


def flow_out(row: dict[str, Any]) -> FlowOut:
    return FlowOut(id=row["id"], code=row["code"], name=row["name"],
                   description=row["description"], subject=row["subject"],
                   live_version=row["live_version"], created_at=row["created_at"],
                   updated_at=row["updated_at"])


def version_out(row: dict[str, Any]) -> VersionOut:
    return VersionOut(flow_id=row["flow_id"], version=row["version"], status=row["status"],
                      note=row["note"], graph=row["graph"], created_at=row["created_at"],
                      published_at=row["published_at"])


def run_out(row: dict[str, Any], cls: type[RunOut] = RunOut, **extra: Any) -> Any:
    return cls(id=row["id"], flow_id=row["flow_id"], version=row["version"],
               subject=row["subject"], node_id=row["node_id"], status=row["status"],
               stuck_reason=row["stuck_reason"], data=row["data"] or {},
               actions=list(row["actions"] or []), assignees=list(row["assignees"] or []),
               due_at=row["due_at"], revision=row["revision"], started_at=row["started_at"],
               updated_at=row["updated_at"], completed_at=row["completed_at"], **extra)


def step_out(row: dict[str, Any]) -> StepOut:
    return StepOut(seq=row["seq"], kind=row["kind"], from_node=row["from_node"],
                   node_id=row["node_id"], outcome=row["outcome"], action=row["action"],
                   actor_id=row["actor_id"], changes=row["changes"] or {}, note=row["note"],
                   at=row["at"])


class FlowController(Controller):
    path = "/api/v1/flows"
    tags = ["flows"]

    @get("/", guards=[requires("flows.read")], summary="List flows")
    async def list_flows(self) -> list[FlowOut]:
        return [flow_out(r) for r in await service.list_flows()]

    @post("/", guards=[requires("flows.write")], summary="Create a flow (version 1, a draft)")
    async def create_flow(self, data: FlowIn) -> FlowOut:
        flow = await service.create_flow(code=data.code, name=data.name,
                                         description=data.description, subject=data.subject,
                                         graph=data.graph)
        if data.publish:
            flow = await service.publish(flow["id"], 1)
        return flow_out(flow)

    @get("/node-types", guards=[requires("flows.read")],
         summary="The node types the tenant's enabled plugins offer (the designer's palette)")
    async def node_types(self) -> list[NodeTypeOut]:
        out = []
        for key, (plugin, node_type) in sorted(service.offered_node_types().items()):
            out.append(NodeTypeOut(
                key=key, plugin=plugin, title=dict(node_type.title),
                description=dict(node_type.description), icon=node_type.icon,
                category=node_type.category, role=node_type.role,
                outcomes=None if callable(node_type.outcomes) else list(node_type.outcomes),
                settings_schema=None if node_type.settings is None
                else msgspec.json.schema(node_type.settings)))
        return out

    @post("/node-types/{key:str}/outcomes", guards=[requires("flows.read")], status_code=200,
          summary="The outcomes (outgoing edges) of a node of this type with these settings")
    async def node_outcomes(self, key: Annotated[str, Parameter(max_length=63)],
                            data: OutcomesIn) -> OutcomesOut:
        # The designer asks this for types whose outcomes depend on the settings (a branch).
        offered = service.offered_node_types().get(key)
        if offered is None:
            raise NotFound(N_("node type %(key)s is not offered"), params={"key": key})
        try:
            settings = service.node_settings(offered[1], data.settings)
        except ValueError as exc:
            raise ValidationFailed(N_("the settings do not fit this node type: %(error)s"),
                                   field="settings", params={"error": str(exc)}) from None
        return OutcomesOut(outcomes=list(offered[1].outcomes_for(settings)))

    @get("/{flow_id:int}", guards=[requires("flows.read")], summary="One flow and its versions")
    async def get_flow(self, flow_id: RecordIdParam) -> FlowDetail:
        row = await service.get_flow(flow_id)
        versions = [VersionSummary(version=v["version"], status=v["status"], note=v["note"],
                                   created_at=v["created_at"], published_at=v["published_at"],
                                   running=v["running"])
                    for v in await service.versions(flow_id)]
        return FlowDetail(**msgspec.structs.asdict(flow_out(row)), versions=versions)

    @patch("/{flow_id:int}", guards=[requires("flows.write")], summary="Rename a flow")
    async def update_flow(self, flow_id: RecordIdParam, data: FlowPatch) -> FlowOut:
        return flow_out(await service.update_flow(flow_id, name=data.name,
                                                  description=data.description))

    @get("/{flow_id:int}/versions/{version:int}", guards=[requires("flows.read")],
         summary="One version's graph")
    async def get_version(self, flow_id: RecordIdParam, version: VersionNumber) -> VersionOut:
        return version_out(await service.get_version(flow_id, version))

    @put("/{flow_id:int}/draft", guards=[requires("flows.write")],
         summary="Save the draft graph (a new draft version when none is open)")
    async def save_draft(self, flow_id: RecordIdParam, data: DraftIn) -> VersionOut:
        return version_out(await service.save_draft(flow_id, data.graph, note=data.note))

    @post("/{flow_id:int}/versions/{version:int}/check", guards=[requires("flows.read")],
          status_code=200, summary="Every problem that stops a version from being published")
    async def check(self, flow_id: RecordIdParam, version: VersionNumber) -> CheckOut:
        problems = await service.check_version(flow_id, version)
        return CheckOut(ok=not problems, problems=[Problem(**p) for p in problems])

    @post("/{flow_id:int}/versions/{version:int}/publish", guards=[requires("flows.write")],
          status_code=200, summary="Publish a draft: it becomes the live version")
    async def publish(self, flow_id: RecordIdParam, version: VersionNumber) -> FlowOut:
        return flow_out(await service.publish(flow_id, version))

    @post("/{flow_id:int}/migrate", guards=[requires("flows.write")], status_code=200,
          summary="Move running runs to another version where their node exists")
    async def migrate(self, flow_id: RecordIdParam, data: MigrateIn) -> MigrateOut:
        result = await service.migrate(flow_id, to_version=data.to_version,
                                       from_version=data.from_version, run_ids=data.run_ids)
        return MigrateOut(moved=result["moved"], kept=result["kept"])

    @post("/{flow_id:int}/runs", guards=[requires("flows.act")],
          summary="Start a run of the flow's live version")
    async def start_run(self, flow_id: RecordIdParam, data: StartIn) -> RunOut:
        flow = await service.get_flow(flow_id)
        return run_out(await service.start_run(flow["code"], subject=data.subject,
                                               data=data.data))


class FlowRunController(Controller):
    path = "/api/v1/flow-runs"
    tags = ["flows"]

    @get("/", guards=[requires("flows.read")], summary="Runs, newest first")
    async def list_runs(self, flow_id: RecordIdFilter = None, status: str | None = None,
                        subject: str | None = None,
                        limit: Annotated[int, Parameter(ge=1, le=500)] = 100) -> list[RunOut]:
        return [run_out(r) for r in await service.list_runs(
            flow_id=flow_id, status=status, subject=subject, limit=limit)]

    @get("/{run_id:int}", guards=[requires("flows.read")], summary="A run and its timeline")
    async def get_run(self, run_id: RecordIdParam) -> RunDetail:
        row = await service.get_run(run_id)
        steps = [step_out(s) for s in await service.run_steps(run_id)]
        return run_out(row, RunDetail, steps=steps)

    @post("/{run_id:int}/actions", guards=[requires("flows.act")], status_code=200,
          summary="Do one of the waiting node's actions (409 naming the allowed ones)")
    async def act(self, run_id: RecordIdParam, data: ActionIn) -> RunOut:
        return run_out(await service.act(run_id, data.action, data.payload,
                                         revision=data.revision))

    @post("/{run_id:int}/cancel", guards=[requires("flows.write")], status_code=200,
          summary="Cancel a run")
    async def cancel(self, run_id: RecordIdParam, data: CancelIn) -> RunOut:
        return run_out(await service.cancel(run_id, reason=data.reason))


ROUTES = document_errors([FlowController, FlowRunController])
