"""The workflow runtime: flows as versioned graphs of typed nodes, and runs that move through
them.

Core owns the graph, its versions and the runs; what happens at a node is the business of the
node type a plugin contributes (``register_workflow_nodes``): ``enter``/``act``/``on_timer``
answer :class:`Advance` (leave along an outcome) or :class:`Wait` (until a person acts or a
timer is due). See ``docs/workflows.md``.

- **Versions.** A flow's graph is edited as a draft; publishing checks it (every problem named
  by node) and makes it the live version; the version it replaces is retired. Runs keep the
  version they started on; an admin may move runs to another version where their node exists.
- **Runs.** One transaction per action: the run's ``revision`` moves on with every change and
  each write is conditional on the revision read, so of two people acting at once exactly one
  wins and the other gets 409 with the current state. Every move is a ``FlowStep`` (the
  timeline) and a domain event (``flow.moved``, ``flow.completed``, …).
- **Time.** A ``Wait(due=…)`` is a durable core timer keyed by run and revision: a timer that
  fires late, twice, or after the run moved on does nothing.
- **Missing node types.** A run reaching (or waiting at) a node whose type is no longer
  offered — its plugin was switched off — is marked ``stuck`` with the reason and shown to the
  admin; nothing is lost, and acting on it again once the plugin is back resumes it.
"""

from __future__ import annotations

import inspect
import re
import traceback
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec
from jimu_sdk import N_
from jimu_sdk.context import current_scope, current_tenant_id, emit, platform
from jimu_sdk.errors import Conflict, JimuError, NotFound, ValidationFailed
from jimu_sdk.types import Advance, Job, NodeContext, NodeType, Wait

from jimu.db.tables import Flow, FlowRun, FlowStep, FlowVersion
from jimu.services.platform import sql_rows, values_sql

MAX_NODES = 300
MAX_EDGES = 1000
MAX_HOPS = 200  # nodes entered in one action before the run is called stuck (a loop)
NODE_ID = re.compile(r"^[A-Za-z0-9_-]{1,63}$")
CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")
TIMER_JOB = "core.flow_timer"
RUN_STATUSES = ("active", "waiting", "completed", "cancelled", "stuck")


# =============================================================================== graphs


class GraphNode(msgspec.Struct, forbid_unknown_fields=True):
    id: str
    type: str
    label: str = ""
    settings: dict[str, Any] = {}
    x: float = 0
    y: float = 0


class GraphEdge(msgspec.Struct, forbid_unknown_fields=True):
    source: str
    target: str
    outcome: str = "next"
    id: str = ""
    label: str = ""


class Graph(msgspec.Struct, forbid_unknown_fields=True):
    nodes: list[GraphNode] = []
    edges: list[GraphEdge] = []


def parse_graph(raw: Any) -> Graph:
    """The graph, or 422 when it is not one (wrong shape, bad ids, too big)."""
    try:
        graph = msgspec.convert(raw, Graph)
    except msgspec.ValidationError as exc:
        raise ValidationFailed(N_("the graph is not valid: %(error)s"), field="graph",
                               params={"error": str(exc)}) from None
    if len(graph.nodes) > MAX_NODES or len(graph.edges) > MAX_EDGES:
        raise ValidationFailed(N_("a flow has at most %(nodes)s nodes and %(edges)s edges"),
                               field="graph", params={"nodes": MAX_NODES, "edges": MAX_EDGES})
    errors = []
    seen: set[str] = set()
    for index, node in enumerate(graph.nodes):
        if not NODE_ID.match(node.id):
            errors.append({"field": f"graph.nodes[{index}].id", "node": node.id,
                           "message": "a node id is 1-63 letters, digits, '-' or '_'"})
        elif node.id in seen:
            errors.append({"field": f"graph.nodes[{index}].id", "node": node.id,
                           "message": f"two nodes have the id {node.id}"})
        seen.add(node.id)
    for index, edge in enumerate(graph.edges):
        for end in ("source", "target"):
            if getattr(edge, end) not in seen:
                errors.append({"field": f"graph.edges[{index}].{end}",
                               "edge": edge.id or str(index),
                               "message": f"edge {edge.id or index} points at "
                                          f"{getattr(edge, end)!r}, which is no node"})
    if errors:
        raise ValidationFailed(N_("the graph is not valid"), errors=errors)
    return graph


def offered_node_types() -> dict[str, tuple[str, NodeType]]:
    """The node types of the tenant's enabled plugins: key → (plugin, type)."""
    found: dict[str, tuple[str, NodeType]] = {}
    for slug, node_type in platform().contributions("register_workflow_nodes"):
        found.setdefault(node_type.key, (slug, node_type))  # slugs come sorted
    return found


def node_settings(node_type: NodeType, raw: Mapping[str, Any]) -> Any:
    """A node's stored settings as its type's struct (``ValueError`` naming the problem)."""
    if node_type.settings is None:
        return None
    try:
        return msgspec.convert(dict(raw), node_type.settings, strict=False)
    except msgspec.ValidationError as exc:
        raise ValueError(str(exc)) from None


def check_graph(graph: Graph, types: Mapping[str, tuple[str, NodeType]]
                ) -> list[dict[str, str]]:
    """Every problem that stops ``graph`` from being published, each naming its node (or
    edge): unknown types, bad settings, outcomes without an edge, unreachable nodes, nodes
    from which no end can be reached."""
    problems: list[dict[str, str]] = []

    def problem(message: str, node: str = "", edge: str = "") -> None:
        problems.append({k: v for k, v in (("node", node), ("edge", edge),
                                           ("message", message)) if v})

    nodes = {n.id: n for n in graph.nodes}
    outgoing: dict[str, list[GraphEdge]] = {n: [] for n in nodes}
    incoming: dict[str, list[GraphEdge]] = {n: [] for n in nodes}
    for edge in graph.edges:
        outgoing[edge.source].append(edge)
        incoming[edge.target].append(edge)
    starts, ends = [], []
    for node in graph.nodes:
        offered = types.get(node.type)
        if offered is None:
            problem(f"node type {node.type!r} is not offered (is its plugin enabled?)", node.id)
            continue
        node_type = offered[1]
        try:
            settings = node_settings(node_type, node.settings)
        except ValueError as exc:
            problem(f"settings: {exc}", node.id)
            continue
        if node_type.check is not None:
            for message in node_type.check(settings):
                problem(message, node.id)
        if node_type.role == "start":
            starts.append(node.id)
            if incoming[node.id]:
                problem("a start node cannot have incoming edges", node.id)
        if node_type.role == "end":
            ends.append(node.id)
        outcomes = node_type.outcomes_for(settings)
        by_outcome: dict[str, list[GraphEdge]] = {}
        for edge in outgoing[node.id]:
            by_outcome.setdefault(edge.outcome, []).append(edge)
        for outcome, edges in sorted(by_outcome.items()):
            if outcome not in outcomes:
                offered_text = ", ".join(outcomes) or "none (it ends the flow)"
                for edge in edges:
                    problem(f"edge {edge.id or edge.target} leaves by {outcome!r}, but this "
                            f"node's outcomes are: {offered_text}", node.id, edge.id)
            elif len(edges) > 1:
                problem(f"outcome {outcome!r} has {len(edges)} edges; it needs exactly one",
                        node.id)
        for outcome in outcomes:
            if outcome not in by_outcome:
                problem(f"outcome {outcome!r} leads nowhere: connect it to a node", node.id)
    if len(starts) != 1:
        problem("a flow needs exactly one start node" if not starts else
                f"a flow has exactly one start node, not {len(starts)}: {', '.join(starts)}")
    if not ends:
        problem("a flow needs at least one end node")
    if len(starts) == 1:
        reached = _walk(starts[0], lambda n: [e.target for e in outgoing[n]])
        for node in graph.nodes:
            if node.id not in reached:
                problem("unreachable: no path from the start leads here", node.id)
    if ends:
        finishing: set[str] = set()
        for end in ends:
            finishing |= _walk(end, lambda n: [e.source for e in incoming[n]])
        for node in graph.nodes:
            if node.id not in finishing and node.id not in ends:
                problem("dead end: no path from here reaches an end node", node.id)
    return problems


def _walk(start: str, neighbours: Any) -> set[str]:
    seen = {start}
    queue = deque([start])
    while queue:
        for nxt in neighbours(queue.popleft()):
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return seen


# =============================================================================== flows


def _now() -> Any:
    return platform().now()


def _user_id() -> int | None:
    scope = current_scope()
    return scope.user_id if scope else None


async def list_flows() -> list[dict[str, Any]]:
    return await Flow.scoped_select().order_by(Flow.code)


async def get_flow(flow_id: int) -> dict[str, Any]:
    return await Flow.scoped_get(flow_id, what="flow")


async def flow_by_code(code: str) -> dict[str, Any]:
    row = await Flow.scoped_select().where(Flow.code == code).first()
    if row is None:
        raise NotFound(N_("flow %(code)s not found"), params={"code": code})
    return row


async def create_flow(*, code: str, name: str, description: str = "", subject: str = "",
                      graph: Any = None) -> dict[str, Any]:
    code = code.strip()
    if not CODE.match(code):
        raise ValidationFailed(N_("a flow code is 1-63 letters, digits, '-' or '_', starting "
                                  "with a letter or digit"), field="code")
    if not name.strip():
        raise ValidationFailed(N_("a flow needs a name"), field="name")
    if await Flow.scoped_count().where(Flow.code == code):
        raise Conflict(N_("a flow with code %(code)s exists"), field="code",
                       params={"code": code})
    parsed = parse_graph(graph if graph is not None else {"nodes": [], "edges": []})
    flow = await Flow.scoped_insert(code=code, name=name.strip(), description=description,
                                    subject=subject, created_at=_now(), updated_at=_now())
    await FlowVersion.scoped_insert(flow_id=flow["id"], version=1, status="draft",
                                    graph=msgspec.to_builtins(parsed), created_by=_user_id(),
                                    created_at=_now())
    await platform().audit("flow.create", f"flow:{code}", None, {"name": name})
    return flow


async def update_flow(flow_id: int, *, name: str | None = None,
                      description: str | None = None) -> dict[str, Any]:
    flow = await get_flow(flow_id)
    changes: dict[Any, Any] = {}
    if name is not None:
        if not name.strip():
            raise ValidationFailed(N_("a flow needs a name"), field="name")
        changes[Flow.name] = name.strip()
    if description is not None:
        changes[Flow.description] = description
    if changes:
        changes[Flow.updated_at] = _now()
        await Flow.scoped_update(changes).where(Flow.id == flow_id)
    return await get_flow(flow["id"])


async def versions(flow_id: int) -> list[dict[str, Any]]:
    await get_flow(flow_id)
    rows = await FlowVersion.scoped_select(
        FlowVersion.id, FlowVersion.version, FlowVersion.status, FlowVersion.note,
        FlowVersion.created_at, FlowVersion.published_at).where(
        FlowVersion.flow_id == flow_id).order_by(FlowVersion.version, ascending=False)
    counts = await _run_counts(flow_id)
    return [{**row, "running": counts.get(row["version"], 0)} for row in rows]


async def _run_counts(flow_id: int) -> dict[int, int]:
    rows = await FlowRun.raw(
        "SELECT version, COUNT(*) AS n FROM core_flow_run WHERE tenant_id = {} AND "
        "flow_id = {} AND status IN ('active', 'waiting', 'stuck') GROUP BY version",
        current_tenant_id(), flow_id)
    return {r["version"]: r["n"] for r in rows}


async def get_version(flow_id: int, version: int) -> dict[str, Any]:
    row = await FlowVersion.scoped_select().output(load_json=True).where(
        (FlowVersion.flow_id == flow_id) & (FlowVersion.version == version)).first()
    if row is None:
        raise NotFound(N_("version %(version)s of this flow not found"),
                       params={"version": version})
    return row


async def save_draft(flow_id: int, graph: Any, *, note: str = "") -> dict[str, Any]:
    """Save ``graph`` as the flow's draft: the open draft changes, or, when every version
    is published or retired, a new draft version is made."""
    await get_flow(flow_id)
    parsed = msgspec.to_builtins(parse_graph(graph))
    latest = await FlowVersion.scoped_select().where(FlowVersion.flow_id == flow_id).order_by(
        FlowVersion.version, ascending=False).first()
    if latest is not None and latest["status"] == "draft":
        await FlowVersion.scoped_update({FlowVersion.graph: parsed, FlowVersion.note: note}
                                        ).where(FlowVersion.id == latest["id"])
        return await get_version(flow_id, latest["version"])
    number = (latest["version"] if latest else 0) + 1
    await FlowVersion.scoped_insert(flow_id=flow_id, version=number, status="draft",
                                    graph=parsed, note=note, created_by=_user_id(),
                                    created_at=_now())
    return await get_version(flow_id, number)


async def check_version(flow_id: int, version: int) -> list[dict[str, str]]:
    row = await get_version(flow_id, version)
    return check_graph(parse_graph(row["graph"]), offered_node_types())


async def publish(flow_id: int, version: int) -> dict[str, Any]:
    """Make a draft the live version (422 listing every problem by node); the version it
    replaces is retired, its runs go on."""
    flow = await get_flow(flow_id)
    row = await get_version(flow_id, version)
    if row["status"] != "draft":
        raise Conflict(N_("version %(version)s is %(status)s; only a draft can be published"),
                       params={"version": version, "status": row["status"]})
    problems = check_graph(parse_graph(row["graph"]), offered_node_types())
    if problems:
        raise ValidationFailed(N_("the flow cannot be published: %(count)s problems"),
                               params={"count": len(problems)},
                               errors=[{"field": "graph", **p} for p in problems])
    now = _now()
    moved = await FlowVersion.scoped_update({
        FlowVersion.status: "published", FlowVersion.published_at: now,
        FlowVersion.published_by: _user_id()}).where(
        (FlowVersion.id == row["id"]) & (FlowVersion.status == "draft")).returning(
        FlowVersion.id)
    if not moved:
        raise Conflict(N_("version %(version)s was published or changed meanwhile"),
                       params={"version": version})
    await FlowVersion.scoped_update({FlowVersion.status: "retired"}).where(
        (FlowVersion.flow_id == flow_id) & (FlowVersion.status == "published")
        & (FlowVersion.id != row["id"]))
    await Flow.scoped_update({Flow.live_version: version, Flow.updated_at: now}).where(
        Flow.id == flow_id)
    await platform().audit("flow.publish", f"flow:{flow['code']}",
                           {"live_version": flow["live_version"]}, {"live_version": version})
    await emit("flow.published", {"flow": flow["code"], "version": version})
    return await get_flow(flow_id)


# =============================================================================== runs


class _Graph:
    """A version's graph ready to run: nodes by id, edges by (node, outcome)."""

    def __init__(self, version: Mapping[str, Any]) -> None:
        graph = msgspec.convert(version["graph"], Graph)
        self.version = version
        self.nodes = {n.id: n for n in graph.nodes}
        self.next = {(e.source, e.outcome): e.target for e in graph.edges}


# A version that runs use is published or retired, and those never change: their parsed
# graphs are kept by the kernel (drafts are never cached). A flow's code never changes either
# (only its name and description do).
GRAPHS_KEPT = 1024


def _kept(name: str) -> dict[Any, Any]:
    scope = current_scope()
    kernel = getattr(scope.platform if scope else None, "kernel", None)
    if kernel is None:
        return {}
    return kernel.memo.setdefault(name, {})  # type: ignore[no-any-return]


async def _load_graph(version_id: int) -> _Graph:
    graphs = _kept("flow_graphs")
    key = (current_tenant_id(), version_id)
    graph = graphs.get(key)
    if graph is not None:
        return graph
    row = await FlowVersion.scoped_select().output(load_json=True).where(
        FlowVersion.id == version_id).first()
    if row is None:
        raise NotFound(N_("flow version %(id)s not found"), params={"id": version_id})
    graph = _Graph(row)
    if row["status"] != "draft":
        if len(graphs) >= GRAPHS_KEPT:
            graphs.pop(next(iter(graphs)))
        graphs[key] = graph
    return graph


async def _flow_of(run: Mapping[str, Any]) -> dict[str, Any]:
    """What a run's mover needs of its flow (its id and code), without a query when known."""
    codes = _kept("flow_codes")
    key = (current_tenant_id(), run["flow_id"])
    code = codes.get(key)
    if code is None:
        code = (await get_flow(run["flow_id"]))["code"]
        if len(codes) >= GRAPHS_KEPT:
            codes.pop(next(iter(codes)))
        codes[key] = code
    return {"id": run["flow_id"], "code": code}


# The hot path of a transition (read the run, write it back, its steps) is plain SQL: building
# piccolo queries was most of a transition's cost. Each statement names its tenant.
_RUN_COLUMNS = tuple(column._meta.db_column_name for column in FlowRun._meta.columns)
_RUN_JSON = ("data", "node_state", "actions", "assignees")
_SELECT_RUN = (f"SELECT {', '.join(_RUN_COLUMNS)} FROM {FlowRun._meta.tablename} "
               "WHERE tenant_id = $1 AND id = $2")
_UPDATE_RUN = (
    f"UPDATE {FlowRun._meta.tablename} SET node_id = $1, status = $2, stuck_reason = $3, "
    "data = $4, node_state = $5, actions = $6, assignees = $7, due_at = $8, revision = $9, "
    "step_count = $10, updated_at = $11, completed_at = $12 "
    "WHERE tenant_id = $13 AND id = $14 AND revision = $15 RETURNING id")
_STEP_COLUMNS = ("tenant_id", "run_id", "seq", "kind", "from_node", "node_id", "outcome",
                 "action", "actor_id", "changes", "note", "at")
_STEP_INSERTS: dict[int, str] = {}


def _insert_steps_sql(rows: int) -> str:
    sql = _STEP_INSERTS.get(rows)
    if sql is None:
        sql = _STEP_INSERTS[rows] = (
            f"INSERT INTO {FlowStep._meta.tablename} ({', '.join(_STEP_COLUMNS)}) "
            f"VALUES {values_sql(rows, len(_STEP_COLUMNS))}")
    return sql


def _json_text(value: Any) -> str:
    """Node data as JSON stores it (Decimal → str, dates → ISO)."""
    return msgspec.json.encode(value, enc_hook=str).decode()


async def get_run(run_id: int) -> dict[str, Any]:
    rows = await sql_rows(FlowRun, _SELECT_RUN, current_tenant_id(), run_id)
    if not rows:
        raise NotFound(N_("flow run %(id)s not found"), params={"id": run_id})
    row = dict(rows[0])
    for key in _RUN_JSON:
        if isinstance(row[key], str | bytes):
            row[key] = msgspec.json.decode(row[key])
    return row


async def run_steps(run_id: int) -> list[dict[str, Any]]:
    await get_run(run_id)
    return await FlowStep.scoped_select().output(load_json=True).where(
        FlowStep.run_id == run_id).order_by(FlowStep.seq)


async def run_node(run_id: int, node_id: str | None = None) -> dict[str, Any]:
    """A node of the run's version graph (default: the run's current node)."""
    run = await get_run(run_id)
    wanted = node_id or run["node_id"]
    node = (await _load_graph(run["version_id"])).nodes.get(wanted)
    if node is None:
        raise NotFound(N_("node %(node)s is not in version %(version)s of this flow"),
                       params={"node": wanted, "version": run["version"]})
    return {"id": node.id, "type": node.type, "label": node.label,
            "settings": dict(node.settings)}


async def list_runs(*, flow_id: int | None = None, status: str | None = None,
                    subject: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    where = []
    if flow_id is not None:
        where.append(FlowRun.flow_id == flow_id)
    if status:
        if status not in RUN_STATUSES:
            raise ValidationFailed(N_("status is one of %(allowed)s"), field="status",
                                   params={"allowed": ", ".join(RUN_STATUSES)})
        where.append(FlowRun.status == status)
    if subject:
        where.append(FlowRun.subject == subject)
    return await FlowRun.scoped_select().output(load_json=True).where(*where).order_by(
        FlowRun.id, ascending=False).limit(limit)


async def start_run(flow_code: str, *, subject: str = "", data: Mapping[str, Any] | None = None
                    ) -> dict[str, Any]:
    """Start a run of the flow's live version and move it as far as it goes at once."""
    flow = await flow_by_code(flow_code)
    if flow["live_version"] is None:
        raise Conflict(N_("flow %(code)s has no published version yet"),
                       params={"code": flow_code})
    version = await get_version(flow["id"], flow["live_version"])
    graph = _Graph(version)
    types = offered_node_types()
    start = next((n.id for n in graph.nodes.values()
                  if (t := types.get(n.type)) and t[1].role == "start"), None)
    if start is None:
        raise Conflict(N_("flow %(code)s has no start node its plugins offer"),
                       params={"code": flow_code})
    now = _now()
    run = await FlowRun.scoped_insert(
        flow_id=flow["id"], version_id=version["id"], version=version["version"],
        subject=subject, node_id=start, status="active", data=dict(data or {}),
        node_state={}, actions=[], assignees=[], revision=0, step_count=0,
        started_by=_user_id(), started_at=now, updated_at=now)
    mover = _Mover(flow, graph, types, run, steps=0)
    await mover.record("start", node_id=start, note="")
    await emit("flow.started", {"run_id": run["id"], "flow": flow["code"],
                                "version": version["version"], "subject": subject})
    await mover.enter(start, kind="enter")
    return await mover.save()


async def act(run_id: int, action: str, payload: Mapping[str, Any] | None = None, *,
              revision: int | None = None) -> dict[str, Any]:
    """A person does ``action`` at the node the run waits at. 409 with the current state when
    the run moved on (``revision`` no longer current) or the node does not offer the action."""
    run = await get_run(run_id)
    if revision is not None and revision != run["revision"]:
        raise _moved_on(run)
    if run["status"] not in ("waiting", "stuck"):
        raise Conflict(N_("this run is %(status)s: nothing can be done at it"),
                       params={"status": run["status"]}, run=_public(run))
    scope = current_scope()
    if run["assignees"] and scope is not None and scope.user_id not in run["assignees"] \
            and not (scope.permissions and "flows.write" in scope.permissions):
        raise Conflict(N_("this step is assigned to someone else"), run=_public(run))
    mover = await _mover_for(await _flow_of(run), run)
    if run["status"] == "stuck":
        # The node's plugin is back (or the run was moved): enter the node again.
        await mover.enter(run["node_id"], kind="resume")
        return await mover.save()
    if action not in run["actions"]:
        allowed = ", ".join(run["actions"]) or "none"
        raise Conflict(N_("%(action)s is not possible here; allowed: %(allowed)s"),
                       params={"action": action, "allowed": allowed},
                       allowed=list(run["actions"]), run=_public(run))
    await mover.act(action, dict(payload or {}))
    return await mover.save()


async def cancel(run_id: int, *, reason: str = "") -> dict[str, Any]:
    run = await get_run(run_id)
    if run["status"] in ("completed", "cancelled"):
        raise Conflict(N_("this run is already %(status)s"), params={"status": run["status"]},
                       run=_public(run))
    mover = await _mover_for(await _flow_of(run), run)
    mover.status = "cancelled"
    mover.actions, mover.assignees, mover.due = [], [], None
    await mover.record("cancel", node_id=run["node_id"], note=reason)
    await emit("flow.cancelled", mover.event())
    return await mover.save()


async def migrate(flow_id: int, *, to_version: int, from_version: int | None = None,
                  run_ids: Sequence[int] | None = None) -> dict[str, Any]:
    """Move running runs to ``to_version`` (published or retired), only those whose current
    node exists there; the others are listed with why not."""
    flow = await get_flow(flow_id)
    target = await get_version(flow_id, to_version)
    if target["status"] == "draft":
        raise Conflict(N_("publish version %(version)s before moving runs to it"),
                       params={"version": to_version})
    graph = _Graph(target)
    where = [FlowRun.flow_id == flow_id, FlowRun.status.is_in(["active", "waiting", "stuck"])]
    if from_version is not None:
        where.append(FlowRun.version == from_version)
    if run_ids:
        where.append(FlowRun.id.is_in(list(run_ids)))
    runs = await FlowRun.scoped_select().output(load_json=True).where(*where)
    moved, kept = [], []
    for run in runs:
        if run["version"] == to_version:
            continue
        if run["node_id"] not in graph.nodes:
            kept.append({"run_id": run["id"], "node": run["node_id"],
                         "reason": f"node {run['node_id']} does not exist in version "
                                   f"{to_version}"})
            continue
        updated = await FlowRun.scoped_update({
            FlowRun.version_id: target["id"], FlowRun.version: to_version,
            FlowRun.revision: run["revision"] + 1, FlowRun.step_count: run["step_count"] + 1,
            FlowRun.updated_at: _now()}).where(
            (FlowRun.id == run["id"]) & (FlowRun.revision == run["revision"])).returning(
            FlowRun.id)
        if not updated:
            kept.append({"run_id": run["id"], "node": run["node_id"],
                         "reason": "it moved meanwhile; try again"})
            continue
        if run["status"] == "waiting" and run["due_at"] is not None:
            # Its timer is keyed by the revision: move it to the new one.
            await platform().cancel_timer(f"flow-run:{run['id']}:{run['revision']}")
            await platform().schedule_at(run["due_at"], TIMER_JOB,
                                         {"run_id": run["id"], "revision": run["revision"] + 1},
                                         key=f"flow-run:{run['id']}:{run['revision'] + 1}")
        await FlowStep.scoped_insert(run_id=run["id"], seq=run["step_count"] + 1, kind="migrate",
                                     from_node=run["node_id"], node_id=run["node_id"],
                                     actor_id=_user_id(), at=_now(),
                                     changes={"version": [run["version"], to_version]})
        moved.append(run["id"])
    await platform().audit("flow.migrate", f"flow:{flow['code']}",
                           {"from_version": from_version}, {"to_version": to_version,
                                                            "runs": moved})
    return {"moved": moved, "kept": kept}


def _public(run: Mapping[str, Any]) -> dict[str, Any]:
    """What a 409 shows of the run as it is now."""
    return {"id": run["id"], "status": run["status"], "node_id": run["node_id"],
            "revision": run["revision"], "actions": list(run["actions"] or [])}


def _moved_on(run: Mapping[str, Any]) -> Conflict:
    return Conflict(N_("this run changed meanwhile (revision %(revision)s): reload it"),
                    params={"revision": run["revision"]}, run=_public(run))


async def _mover_for(flow: Mapping[str, Any], run: Mapping[str, Any]) -> _Mover:
    graph = await _load_graph(run["version_id"])
    return _Mover(flow, graph, offered_node_types(), run, steps=run["step_count"])


class _Mover:
    """Moves one run within one transaction and writes it back once, conditionally."""

    def __init__(self, flow: Mapping[str, Any], graph: _Graph,
                 types: Mapping[str, tuple[str, NodeType]], run: Mapping[str, Any],
                 steps: int) -> None:
        self.flow, self.graph, self.types, self.run = flow, graph, types, run
        self.steps = steps
        self.node_id: str = run["node_id"]
        self.status: str = run["status"]
        self.data: dict[str, Any] = dict(run["data"] or {})
        self.state: dict[str, Any] = dict(run["node_state"] or {})
        self.actions: list[str] = list(run["actions"] or [])
        self.assignees: list[int] = list(run["assignees"] or [])
        self.due = run["due_at"]
        self.stuck_reason = run.get("stuck_reason", "")
        self.hops = 0
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.new_steps: list[Any] = []  # the columns of each step, _STEP_COLUMNS' order

    # ------------------------------------------------------------------ moving

    def context(self, node_id: str, settings: Any) -> NodeContext:
        node = self.graph.nodes[node_id]
        return NodeContext(run_id=self.run["id"], flow=self.flow["code"],
                           version=self.run["version"], node_id=node_id,
                           label=node.label, subject=self.run["subject"], data=self.data,
                           settings=settings, state=self.state, actor_id=_user_id(),
                           now=_now())

    def _type_of(self, node_id: str) -> tuple[NodeType, Any] | None:
        node = self.graph.nodes.get(node_id)
        if node is None:
            self._stick(node_id, f"node {node_id} is not in version {self.run['version']}")
            return None
        offered = self.types.get(node.type)
        if offered is None:
            self._stick(node_id, f"node type {node.type!r} is not offered: its plugin is "
                                 "switched off")
            return None
        try:
            return offered[1], node_settings(offered[1], node.settings)
        except ValueError as exc:
            self._stick(node_id, f"the settings of node {node_id} no longer fit its type: "
                                 f"{exc}")
            return None

    def _stick(self, node_id: str, reason: str) -> None:
        self.node_id, self.status, self.stuck_reason = node_id, "stuck", reason
        self.actions, self.due = [], None
        self.events.append(("flow.stuck", {**self.event(), "reason": reason}))

    async def enter(self, node_id: str, *, kind: str) -> None:
        while True:
            self.hops += 1
            if self.hops > MAX_HOPS:
                self._stick(node_id, f"more than {MAX_HOPS} nodes in one go: the flow loops")
                return
            found = self._type_of(node_id)
            if found is None:
                return
            node_type, settings = found
            self.node_id, self.state, self.status = node_id, {}, "active"
            self.actions, self.assignees, self.due, self.stuck_reason = [], [], None, ""
            if node_type.role == "end":
                self.status = "completed"
                await self.record(kind, node_id=node_id)
                self.events.append(("flow.completed", self.event()))
                return
            outcome = await self.call(node_type, "enter", node_id,
                                      self.context(node_id, settings))
            if outcome is None:
                return
            nxt = await self.apply(node_id, node_type, outcome, kind=kind)
            if nxt is None:
                return
            node_id, kind = nxt, "enter"

    async def act(self, action: str, payload: dict[str, Any]) -> None:
        found = self._type_of(self.node_id)
        if found is None:
            return
        node_type, settings = found
        if node_type.act is None:
            raise Conflict(N_("this node takes no action"), run=_public(self.run))
        outcome = await self.call(node_type, "act", self.node_id,
                                  self.context(self.node_id, settings), action, payload)
        if outcome is None:
            return
        nxt = await self.apply(self.node_id, node_type, outcome, kind="action", action=action)
        if nxt is not None:
            await self.enter(nxt, kind="enter")

    async def on_timer(self) -> None:
        found = self._type_of(self.node_id)
        if found is None:
            return
        node_type, settings = found
        if node_type.on_timer is None:
            return
        outcome = await self.call(node_type, "on_timer", self.node_id,
                                  self.context(self.node_id, settings))
        if outcome is None:
            return
        nxt = await self.apply(self.node_id, node_type, outcome, kind="timer")
        if nxt is not None:
            await self.enter(nxt, kind="enter")

    async def apply(self, node_id: str, node_type: NodeType, outcome: Any, *, kind: str,
                    action: str = "") -> str | None:
        """Record what the node answered; the next node's id when the run moves on."""
        if isinstance(outcome, Wait):
            self.data.update(outcome.data)
            self.status, self.actions = "waiting", list(outcome.actions)
            self.assignees, self.state = list(outcome.assignees), dict(outcome.state)
            self.due = outcome.due
            await self.record(kind, node_id=node_id, action=action, note=outcome.note,
                              changes=dict(outcome.data))
            self.events.append(("flow.waiting", {**self.event(),
                                                 "actions": list(outcome.actions)}))
            return None
        self.data.update(outcome.data)
        target = self.graph.next.get((node_id, outcome.outcome))
        await self.record(kind, node_id=node_id, action=action, outcome=outcome.outcome,
                          note=outcome.note, changes=dict(outcome.data))
        if target is None:
            self._stick(node_id, f"outcome {outcome.outcome!r} of node {node_id} leads "
                                 "nowhere")
            return None
        self.events.append(("flow.moved", {**self.event(), "from": node_id, "to": target,
                                           "outcome": outcome.outcome, "action": action}))
        return target

    async def call(self, node_type: NodeType, what: str, node_id: str, *args: Any
                   ) -> Advance | Wait | None:
        """Ask the node type; a plugin bug (an exception, an answer that is neither Advance
        nor Wait) is recorded for the admin and leaves the run stuck at the node, kept. A
        ``JimuError`` is the person's to fix (a missing form field) and changes nothing."""
        fn = getattr(node_type, what)
        try:
            answer = await _call(fn, *args)
            if not isinstance(answer, Advance | Wait):
                raise TypeError(f"answered {answer!r}, not Advance or Wait")
        except JimuError:
            raise
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            slug = self.types[node_type.key][0] if node_type.key in self.types else "?"
            _record_failure(slug, f"workflow node {node_type.key}.{what}", error)
            self._stick(node_id, f"node type {node_type.key} failed: {error}")
            return None
        return answer

    # ------------------------------------------------------------------ writing

    def event(self) -> dict[str, Any]:
        return {"run_id": self.run["id"], "flow": self.flow["code"],
                "version": self.run["version"], "subject": self.run["subject"],
                "node": self.node_id, "status": self.status, "actor_id": _user_id()}

    async def record(self, kind: str, *, node_id: str, action: str = "", outcome: str = "",
                     note: str = "", changes: Mapping[str, Any] | None = None) -> None:
        self.steps += 1
        # Written by save(), after the conditional update: a mover that lost writes nothing.
        self.new_steps += (current_tenant_id(), self.run["id"], self.steps, kind, self.node_id,
                           node_id, outcome, action, _user_id(), _json_text(changes or {}),
                           note, _now())

    async def save(self) -> dict[str, Any]:
        """Write the run back if nobody else moved it meanwhile (else 409), then its events
        and its timer."""
        run = self.run
        now = _now()
        revision = run["revision"] + 1
        data, state = _json_text(self.data), _json_text(self.state)
        actions, assignees = list(self.actions), list(self.assignees)
        completed_at = now if self.status == "completed" else None
        updated = await sql_rows(
            FlowRun, _UPDATE_RUN, self.node_id, self.status, self.stuck_reason, data, state,
            _json_text(actions), _json_text(assignees), self.due, revision, self.steps, now,
            completed_at, current_tenant_id(), run["id"], run["revision"])
        if not updated:
            raise _moved_on(await get_run(run["id"]))
        if self.new_steps:
            rows = len(self.new_steps) // len(_STEP_COLUMNS)
            await sql_rows(FlowStep, _insert_steps_sql(rows), *self.new_steps)
            self.new_steps = []
        values = {
            "node_id": self.node_id, "status": self.status, "stuck_reason": self.stuck_reason,
            "data": msgspec.json.decode(data), "node_state": msgspec.json.decode(state),
            "actions": actions, "assignees": assignees, "due_at": self.due,
            "revision": revision, "step_count": self.steps, "updated_at": now,
            "completed_at": completed_at}
        await _emit_all(self.events)
        if self.status == "waiting" and self.due is not None:
            await platform().schedule_at(self.due, TIMER_JOB,
                                         {"run_id": run["id"], "revision": revision},
                                         key=f"flow-run:{run['id']}:{revision}")
        if run["status"] == "waiting" and run["due_at"] is not None:
            await platform().cancel_timer(f"flow-run:{run['id']}:{run['revision']}")
        return {**run, **values}


async def _emit_all(events: Sequence[tuple[str, Mapping[str, Any]]]) -> None:
    """The run's events in one insert (core's platform services), else one by one."""
    scope = current_scope()
    emit_many = getattr(scope.platform if scope else None, "emit_many", None)
    if emit_many is not None:
        await emit_many(events)
        return
    for event_type, payload in events:
        await emit(event_type, payload)


def _record_failure(plugin: str, hook: str, error: str) -> None:
    scope = current_scope()
    services = scope.platform if scope else None
    kernel = getattr(services, "kernel", None)
    if kernel is not None:  # shown to the admin on the plugins page
        kernel.failures.record(tenant_id=scope.tenant_id if scope else None, plugin=plugin,
                               hook=hook, kind="error", error=error,
                               tb=traceback.format_exc())


async def _call(fn: Any, *args: Any) -> Any:
    answer = fn(*args)
    if inspect.isawaitable(answer):
        answer = await answer
    return answer


async def timer_due(tenant_id: int, run_id: int, revision: int) -> None:
    """The core job of a ``Wait(due=…)``: acts only if the run still waits where it did."""
    try:
        run = await get_run(run_id)
    except NotFound:
        return
    if run["revision"] != revision or run["status"] != "waiting":
        return  # moved on, or this timer already ran (redelivery)
    mover = await _mover_for(await _flow_of(run), run)
    await mover.on_timer()
    try:
        await mover.save()
    except JimuError:
        return  # a person acted at the same moment: theirs stands


CORE_JOBS = [Job(name="flow_timer", run=timer_due, max_retries=3)]
"""Jobs of core itself, named ``core.<name>`` (run whatever plugins a tenant enables)."""
