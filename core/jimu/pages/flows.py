"""Flows (流程) and their runs (流转) in the admin UI.

- ``/admin/flows``: the tenant's flows, their live version, whether a draft is open and how
  many runs are under way; a new flow opens in the designer.
- ``/admin/flows/{id}``: the designer (``static/flow_designer.js`` on LogicFlow) with the
  flow's versions, moving runs between them and starting a run. The script edits the graph and
  calls the flows API with the session's CSRF token: save the draft, check, publish. Everything
  it shows in words comes from this page, in the page's language.
- ``/admin/flow-runs`` and ``/admin/flow-runs/{id}``: runs (filter by flow, version, status —
  stuck too), a run's timeline, and the actions its waiting node offers; a form node's fields
  are rendered as a form.

Every read and change goes through ``jimu.services.flows``, the functions the API calls, so a
page answers exactly as the API does (another tenant's flow or run is 404).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import msgspec
from jimu_sdk.errors import JimuError, ValidationFailed
from jimu_sdk.types import NodeType
from litestar import Request, get, post
from litestar.response import Redirect, Response, Template
from piccolo.query.functions.aggregate import Count

from jimu.db.tables import FlowRun, FlowVersion
from jimu.i18n import N_, localized_text
from jimu.services import flows as service
from jimu.services import users
from jimu.web.forms import belongs_on_form, failed_form, parse_form
from jimu.web.guards import requires
from jimu.web.list_view import (
    Cell,
    Column,
    Filter,
    ListState,
    ListView,
    collect_all,
    export_format,
    export_response,
    list_page,
    options,
)
from jimu.web.listing import RecordIdParam, like_pattern
from jimu.web.pages_support import (
    FormState,
    _,
    error_text,
    flash_text,
    form_data,
    page,
    redirect,
)
from jimu.web.ui import format_datetime, ui

VERSION_STATUS_TITLES = {"draft": N_("Draft"), "published": N_("Live"),
                         "retired": N_("Retired")}
RUN_STATUS_TITLES = {"active": N_("Moving on"), "waiting": N_("Waiting"),
                     "completed": N_("Completed"), "cancelled": N_("Run cancelled"),
                     "stuck": N_("Stuck")}
STEP_KIND_TITLES = {"start": N_("Began"), "enter": N_("Reached"), "action": N_("Acted"),
                    "timer": N_("Time was up"), "migrate": N_("Moved to another version"),
                    "cancel": N_("Run cancelled"), "resume": N_("Resumed")}
ACTION_TITLES = {"submit": N_("Submit"), "approve": N_("Approve"), "reject": N_("Reject"),
                 "delegate": N_("Delegate"), "skip": N_("Skip the wait"),
                 "resume": N_("Try again")}
OUTCOME_TITLES = {"next": N_("Continue"), "submitted": N_("Submitted"),
                  "approved": N_("Approved"), "rejected": N_("Rejected"),
                  "default": N_("Otherwise")}
CATEGORY_TITLES = {"basic": N_("Start and end"), "people": N_("People"),
                   "logic": N_("Logic"), "time": N_("Time"), "integration": N_("Integration"),
                   "stock": N_("Stock"), "general": N_("Other")}
CATEGORY_ORDER = ("basic", "people", "logic", "time", "integration", "stock")
ROLE_ORDER = {"start": 0, "step": 1, "end": 2}
# Values of settings enums shown in words (the form field kinds, the approval modes).
ENUM_TITLES = {
    "text": N_("Text"), "textarea": N_("Long text"), "number": N_("Numeric"),
    "money": N_("Money"), "date": N_("Date"), "choice": N_("Choice"), "phone": N_("Phone"),
    "address": N_("Address"), "photo": N_("Photos"),
    "one": N_("The first approver"), "any": N_("Any one approver"),
    "all": N_("Every approver"), "sequence": N_("Every approver, in the order listed"),
}
# Settings fields a node type left without a title get their name in words.
SCHEMA_WORDS = (N_("Kind"), N_("Required"), N_("Minimum"), N_("Maximum"), N_("Help"))

# The publish check's problems (``services.flows.check_graph``) in the page's language; a
# problem matching none is shown as the service wrote it.
PROBLEMS = (
    (r"^node type '(?P<type>[^']*)' is not offered \(is its plugin enabled\?\)$",
     N_("Node type %(type)s is not offered: is its plugin switched on?")),
    (r"^settings: (?P<error>.*)$", N_("Settings: %(error)s")),
    (r"^a start node cannot have incoming edges$",
     N_("Nothing may lead into a start node.")),
    (r"^edge (?P<edge>\S+) leaves by '(?P<outcome>[^']*)', but this node's outcomes are: "
     r"(?P<offered>.*)$",
     N_("A connection leaves by “%(outcome)s”, but this node's outcomes are: %(offered)s")),
    (r"^outcome '(?P<outcome>[^']*)' has (?P<count>\d+) edges; it needs exactly one$",
     N_("Outcome “%(outcome)s” has %(count)s connections; it needs exactly one.")),
    (r"^outcome '(?P<outcome>[^']*)' leads nowhere: connect it to a node$",
     N_("Outcome “%(outcome)s” leads nowhere: connect it to a node.")),
    (r"^a flow needs exactly one start node$", N_("A flow needs exactly one start node.")),
    (r"^a flow has exactly one start node, not (?P<count>\d+): (?P<nodes>.*)$",
     N_("A flow has exactly one start node, not %(count)s: %(nodes)s")),
    (r"^a flow needs at least one end node$", N_("A flow needs at least one end node.")),
    (r"^unreachable: no path from the start leads here$",
     N_("Unreachable: no path from the start leads here.")),
    (r"^dead end: no path from here reaches an end node$",
     N_("Dead end: no path from here reaches an end node.")),
)

# The designer script's words, translated into the page's language.
DESIGNER_TEXT = {
    "saved": N_("Draft saved as version %(version)s."),
    "saving": N_("Saving…"),
    "checking": N_("Checking…"),
    "publishing": N_("Publishing…"),
    "unsaved": N_("Unsaved changes"),
    "all_saved": N_("All changes saved"),
    "check_ok": N_("No problems: this version can be published."),
    "problems": N_("Problems that stop this version from being published: %(count)s"),
    "flow_problem": N_("The whole flow"),
    "publish_confirm": N_("Publish version %(version)s? New runs will use it; runs under way "
                          "keep their version."),
    "failed": N_("That did not work:"),
    "network": N_("The server could not be reached; try again."),
    "choose_outcome": N_("This node has several outcomes: choose which one this connection "
                         "is."),
    "outcome": N_("Outcome"),
    "no_outcome_left": N_("Every outcome of this node is connected already."),
    "no_way_out": N_("An end node has no way out."),
    "no_way_in": N_("Nothing may lead into a start node."),
    "self_loop": N_("A node cannot connect to itself."),
    "node": N_("Node"),
    "node_label": N_("Node name"),
    "node_type": N_("Node type"),
    "node_id": N_("Node ID"),
    "settings": N_("Settings"),
    "no_settings": N_("This node type has no settings."),
    "outcomes": N_("Outcomes"),
    "leads_to": N_("leads to"),
    "not_connected": N_("not connected yet"),
    "add_row": N_("Add"),
    "remove_row": N_("Remove"),
    "move_up": N_("Move up"),
    "move_down": N_("Move down"),
    "row": N_("No. %(number)s"),
    "list_help": N_("Separate several values with commas."),
    "none": N_("— none —"),
    "delete_node": N_("Delete node"),
    "delete_edge": N_("Delete connection"),
    "connection": N_("Connection"),
    "from": N_("From node"),
    "to": N_("To node"),
    "unknown_type": N_("Node type not offered: %(type)s"),
    "flow": N_("Flow"),
    "help": N_("Drag a node type from the palette onto the canvas. To connect two nodes, drag "
               "from a dot on a node's edge to the other node. Click a node or a connection "
               "to edit it; Delete removes it."),
    "read_only": N_("This version is read-only."),
}

RUN_SORTS = ("id",)


def _t(mapping: Mapping[str, str], key: str) -> str:
    """The translated title of ``key``, or the key itself."""
    return _(mapping[key]) if key in mapping else key


# ================================================================================ palette


def _titled(name: str, prop: dict[str, Any]) -> dict[str, Any]:
    if "title" not in prop:
        prop["title"] = _(name.replace("_", " ").capitalize())
    return prop


def localized_schema(node: Any) -> Any:
    """A settings JSON schema with its titles and descriptions in the page's language, a
    title for every property, and ``x-enum-titles`` naming enum values in words."""
    if isinstance(node, list):
        return [localized_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("title", "description") and isinstance(value, str):
            out[key] = _(value)
        elif key == "properties" and isinstance(value, dict):
            out[key] = {name: _titled(name, localized_schema(prop))
                        for name, prop in value.items()}
        else:
            out[key] = localized_schema(value)
    if isinstance(node.get("enum"), list):
        out["x-enum-titles"] = {str(v): _(ENUM_TITLES[v]) for v in node["enum"]
                                if isinstance(v, str) and v in ENUM_TITLES}
    return out


def palette() -> list[dict[str, Any]]:
    """The node types the tenant's enabled plugins offer, in the page's language."""
    entries = []
    for key, (plugin, node_type) in service.offered_node_types().items():
        entries.append({
            "key": key, "plugin": plugin, "title": localized_text(node_type.title) or key,
            "description": localized_text(node_type.description), "icon": node_type.icon,
            "category": node_type.category,
            "category_title": _t(CATEGORY_TITLES, node_type.category),
            "role": node_type.role,
            "outcomes": None if callable(node_type.outcomes) else list(node_type.outcomes),
            "schema": _schema(node_type)})
    rank = {c: i for i, c in enumerate(CATEGORY_ORDER)}
    entries.sort(key=lambda e: (rank.get(str(e["category"]), len(rank)), str(e["category"]),
                                ROLE_ORDER.get(str(e["role"]), 1), str(e["title"])))
    return entries


def _schema(node_type: NodeType) -> dict[str, Any] | None:
    if node_type.settings is None:
        return None
    return localized_schema(msgspec.json.schema(node_type.settings))  # type: ignore[no-any-return]


def palette_groups(entries: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for entry in entries:
        groups.setdefault(entry["category_title"], []).append(entry)
    return list(groups.items())


# Icons of the palette and the canvas: 24×24 outline paths, drawn with the current colour.
ICONS = {
    "play": ["M8 5.5v13l10-6.5z"],
    "stop": ["M7 7h10v10H7z"],
    "form": ["M7 3h7l4 4v14H7z", "M14 3v4h4", "M10 12h5", "M10 16h5"],
    "stamp": ["M9 3h6v5l2 4H7l2-4z", "M5 15h14v3H5z", "M7 21h10"],
    "branch": ["M6 4v16", "M6 12c0-4 4-6 10-6", "M6 12c0 4 4 6 10 6", "M14 4l3 2-3 2",
               "M14 16l3 2-3 2"],
    "clock": ["M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18z", "M12 7v5l3 2"],
    "phone": ["M6 3h4l2 5-2.5 1.5a11 11 0 0 0 5 5L16 12l5 2v4a2 2 0 0 1-2 2A16 16 0 0 1 4 5a2 "
              "2 0 0 1 2-2z"],
    "bell": ["M6 16V11a6 6 0 0 1 12 0v5l2 2H4z", "M10 20a2 2 0 0 0 4 0"],
    "user": ["M12 4a4 4 0 1 0 0 8a4 4 0 1 0 0-8z", "M4 21c0-4 4-6 8-6s8 2 8 6"],
    "mail": ["M3 6h18v12H3z", "M3 7l9 6 9-6"],
    "truck": ["M2 6h12v10H2z", "M14 10h4l3 3v3h-7", "M6 19a2 2 0 1 0 0-4a2 2 0 1 0 0 4z",
              "M17 19a2 2 0 1 0 0-4a2 2 0 1 0 0 4z"],
    "tool": ["M14 6a4 4 0 0 0 5 5l-9 9-3-3 9-9a4 4 0 0 0-2-2z"],
    "box": ["M3 8l9-5 9 5v8l-9 5-9-5z", "M3 8l9 5 9-5", "M12 13v8"],
    "star": ["M12 3l2.7 5.6 6.1.9-4.4 4.3 1 6.1-5.4-2.9-5.4 2.9 1-6.1-4.4-4.3 6.1-.9z"],
    "link": ["M10 14a4 4 0 0 0 6 0l3-3a4 4 0 0 0-6-6l-1 1", "M14 10a4 4 0 0 0-6 0l-3 3a4 4 0 "
             "0 0 6 6l1-1"],
    "file-text": ["M7 3h7l4 4v14H7z", "M14 3v4h4", "M10 11h5", "M10 14h5", "M10 17h3"],
    "layers": ["M12 3l9 5-9 5-9-5z", "M3 13l9 5 9-5"],
    "map": ["M12 21s-6-5.5-6-10a6 6 0 0 1 12 0c0 4.5-6 10-6 10z",
            "M12 8.5a2.5 2.5 0 1 0 0 5a2.5 2.5 0 1 0 0-5z"],
    "package": ["M3 8l9-5 9 5v8l-9 5-9-5z", "M3 8l9 5 9-5", "M12 13v8", "M7.5 5.5l9 5"],
    "percent": ["M19 5L5 19", "M7 5a2 2 0 1 0 0 4a2 2 0 1 0 0-4z",
                "M17 15a2 2 0 1 0 0 4a2 2 0 1 0 0-4z"],
    "tag": ["M3 12V4h8l10 10-8 8z", "M7.5 7.5h.01"],
    "circle": ["M12 5a7 7 0 1 0 0 14a7 7 0 1 0 0-14z"],
}


def icon_paths(name: str) -> list[str]:
    return ICONS.get(name) or ICONS["circle"]


# ================================================================================ flows


async def _flow_facts() -> tuple[dict[int, int], set[int]]:
    """Runs under way per flow, and the flows with an open draft."""
    rows = await FlowRun.scoped_select(FlowRun.flow_id, Count(FlowRun.id, alias="n")).where(
        FlowRun.status.is_in(["active", "waiting", "stuck"])).group_by(FlowRun.flow_id)
    drafts = await FlowVersion.scoped_select(FlowVersion.flow_id).where(
        FlowVersion.status == "draft")
    return {r["flow_id"]: r["n"] for r in rows}, {r["flow_id"] for r in drafts}


def _flow_columns() -> list[Column]:
    return [Column("code", _("Code")), Column("name", _("Name")),
            Column("live_version", _("Live version"), numeric=True),
            Column("draft", _("Draft")), Column("running", _("Runs under way"), numeric=True),
            Column("updated_at", _("Last changed"))]


@get("/admin/flows", include_in_schema=False, guards=[requires("flows.read")])
async def flows(request: Request) -> Template | Response[bytes]:
    state = ListState.read(request, sorts=("code",), default_sort="code", filters=())
    running, drafts = await _flow_facts()
    q = state.q.casefold()
    rows = [r for r in await service.list_flows()
            if not q or q in r["code"].casefold() or q in r["name"].casefold()]
    cells = [[Cell(r["code"], href=f"/admin/flows/{r['id']}"), Cell(r["name"]),
              Cell(str(r["live_version"]) if r["live_version"] else "—",
                   export=r["live_version"]),
              Cell(_("Open draft") if r["id"] in drafts else "",
                   badge="draft" if r["id"] in drafts else None),
              Cell(str(running.get(r["id"], 0)),
                   href=f"/admin/flow-runs?flow_id={r['id']}" if running.get(r["id"]) else None,
                   export=running.get(r["id"], 0)),
              Cell(format_datetime(r["updated_at"], "short"), export=r["updated_at"])]
             for r in rows]
    columns = _flow_columns()
    fmt = export_format(request)
    if fmt:
        return export_response(fmt, "flows", columns, cells)
    start = (state.page - 1) * state.per_page
    view = ListView(state=state, columns=columns, rows=cells[start:start + state.per_page],
                    total=len(cells), search_label=_("Search code or name"),
                    empty=_("No flows yet. A new flow opens in the designer."))
    return list_page(request, "core/flows.html", view, flash=flash_text(request),
                     can_write=ui().can("flows.write"))


class NewFlowIn(msgspec.Struct, forbid_unknown_fields=False):
    code: str
    name: str


@get("/admin/flows/new", include_in_schema=False, guards=[requires("flows.write")])
async def new_flow() -> Template:
    return page("core/flow_new.html", form=FormState())


@post("/admin/flows/new", include_in_schema=False, guards=[requires("flows.write")])
async def create_flow(request: Request) -> Template | Redirect:
    data = await form_data(request)
    try:
        values = parse_form(NewFlowIn, data)
        flow = await service.create_flow(code=values.code, name=values.name)
    except JimuError as exc:
        if not belongs_on_form(exc):
            raise
        return page("core/flow_new.html", status=exc.status_code, form=failed_form(data, exc))
    return redirect(f"/admin/flows/{flow['id']}",
                    flash=N_("Flow created. Drag node types from the palette to build it."))


async def _run_totals(flow_id: int) -> dict[int, int]:
    rows = await FlowRun.scoped_select(FlowRun.version, Count(FlowRun.id, alias="n")).where(
        FlowRun.flow_id == flow_id).group_by(FlowRun.version)
    return {r["version"]: r["n"] for r in rows}


async def _designer(request: Request, flow_id: int, version: int | None, *, status: int = 200,
                    notice: str = "", error: str = "", kept: list[dict[str, Any]] | None = None,
                    form: FormState | None = None) -> Template:
    flow = await service.get_flow(flow_id)
    versions = await service.versions(flow_id)
    shown = version if version is not None else versions[0]["version"]
    row = await service.get_version(flow_id, shown)
    totals = await _run_totals(flow_id)
    state = ui()
    has_draft = any(v["status"] == "draft" for v in versions)
    editable = state.can("flows.write") and (
        row["status"] == "draft" or (version is None and not has_draft))
    types = palette()
    data = {
        "flow": {"id": flow["id"], "code": flow["code"], "name": flow["name"],
                 "live_version": flow["live_version"]},
        "version": row["version"], "status": row["status"], "graph": row["graph"],
        "editable": editable, "new_draft": editable and row["status"] != "draft",
        "urls": {"draft": f"/api/v1/flows/{flow_id}/draft",
                 "check": f"/api/v1/flows/{flow_id}/versions/{{version}}/check",
                 "publish": f"/api/v1/flows/{flow_id}/versions/{{version}}/publish",
                 "outcomes": "/api/v1/flows/node-types/{key}/outcomes",
                 "page": f"/admin/flows/{flow_id}"},
        "types": types,
        "icons": ICONS,
        "outcome_titles": {key: _(title) for key, title in OUTCOME_TITLES.items()},
        "version_titles": {key: _(title) for key, title in VERSION_STATUS_TITLES.items()},
        "version_label": _("Version %(version)s"),
        "problems": [[pattern.replace("(?P<", "(?<"), _(message)]
                     for pattern, message in PROBLEMS],
        "text": {key: _(message) for key, message in DESIGNER_TEXT.items()},
    }
    published = request.query_params.get("published", "")
    if published.isdigit() and not notice and int(published) == flow["live_version"]:
        notice = _("Version %(version)s is live: new runs use it.", version=published)
    for item in versions:
        item["total"] = totals.get(item["version"], 0)
    return page("core/flow_designer.html", status=status, flow=flow, shown=row,
                versions=versions, editable=editable, designer_json=data,
                groups=palette_groups(types), icon_paths=icon_paths,
                version_titles={k: _(v) for k, v in VERSION_STATUS_TITLES.items()},
                targets=[v for v in versions if v["status"] != "draft"],
                sources=[v for v in versions if v["running"]],
                notice=notice or (flash_text(request) if status == 200 and not error else ""),
                error=error, kept=kept or [],
                form=form or FormState(), can_write=state.can("flows.write"),
                can_act=state.can("flows.act"))


@get("/admin/flows/{flow_id:int}", include_in_schema=False, guards=[requires("flows.read")])
async def designer(request: Request, flow_id: RecordIdParam) -> Template:
    return await _designer(request, flow_id, None)


@get("/admin/flows/{flow_id:int}/versions/{version:int}", include_in_schema=False,
     guards=[requires("flows.read")])
async def designer_version(request: Request, flow_id: RecordIdParam,
                           version: RecordIdParam) -> Template:
    await service.get_flow(flow_id)
    return await _designer(request, flow_id, version)


def _positive(value: Any) -> int | None:
    text = str(value or "").strip()
    return int(text) if text.isdigit() and 0 < int(text) < 2**31 else None


@post("/admin/flows/{flow_id:int}/migrate", include_in_schema=False,
      guards=[requires("flows.write")])
async def migrate(request: Request, flow_id: RecordIdParam) -> Template:
    await service.get_flow(flow_id)
    data = await form_data(request)
    to_version = _positive(data.get("to_version"))
    try:
        if to_version is None:
            raise ValidationFailed(N_("Choose the version to move the runs to."),
                                   field="to_version")
        result = await service.migrate(flow_id, to_version=to_version,
                                       from_version=_positive(data.get("from_version")))
    except JimuError as exc:
        if not belongs_on_form(exc):
            raise
        return await _designer(request, flow_id, None, status=exc.status_code,
                               error=error_text(exc), form=failed_form(data, exc))
    notice = _("Moved %(moved)s runs to version %(version)s.", moved=len(result["moved"]),
               version=to_version)
    return await _designer(request, flow_id, None, notice=notice, kept=result["kept"])


@post("/admin/flows/{flow_id:int}/runs", include_in_schema=False,
      guards=[requires("flows.act")])
async def start_run(request: Request, flow_id: RecordIdParam) -> Template | Redirect:
    flow = await service.get_flow(flow_id)
    data = await form_data(request)
    subject = str(data.get("subject") or "").strip()[:100]
    try:
        run = await service.start_run(flow["code"], subject=subject)
    except JimuError as exc:
        if not belongs_on_form(exc):
            raise
        return await _designer(request, flow_id, None, status=exc.status_code,
                               error=error_text(exc))
    return redirect(f"/admin/flow-runs/{run['id']}", flash=N_("Run started."))


# ================================================================================ runs


def _run_columns() -> list[Column]:
    return [Column("id", _("Run"), sort="id"), Column("flow", _("Flow")),
            Column("version", _("Version"), numeric=True), Column("subject", _("Subject")),
            Column("node", _("Current node")), Column("status", _("Status")),
            Column("updated_at", _("Last moved"))]


async def _node_labels(version_ids: set[int]) -> dict[tuple[int, str], str]:
    """(version id, node id) → the node's name, for the versions of the runs shown."""
    if not version_ids:
        return {}
    rows = await FlowVersion.scoped_select(FlowVersion.id, FlowVersion.graph).where(
        FlowVersion.id.is_in(sorted(version_ids)))
    labels = {}
    for row in rows:
        for node in (row["graph"] or {}).get("nodes", []):
            labels[(row["id"], node.get("id", ""))] = node.get("label") or node.get("id", "")
    return labels


def _run_cells(rows: list[dict[str, Any]], flow_names: dict[int, str],
               labels: dict[tuple[int, str], str]) -> list[list[Cell]]:
    return [[Cell(f"#{r['id']}", href=f"/admin/flow-runs/{r['id']}", export=r["id"]),
             Cell(flow_names.get(r["flow_id"], ""), href=f"/admin/flows/{r['flow_id']}"),
             Cell(str(r["version"]), href=f"/admin/flows/{r['flow_id']}/versions/"
                                          f"{r['version']}", export=r["version"]),
             Cell(r["subject"]),
             Cell(labels.get((r["version_id"], r["node_id"]), r["node_id"])),
             Cell(_t(RUN_STATUS_TITLES, r["status"]), badge=f"run-{r['status']}",
                  export=r["status"]),
             Cell(format_datetime(r["updated_at"], "short"), export=r["updated_at"])]
            for r in rows]


@get("/admin/flow-runs", include_in_schema=False, guards=[requires("flows.read")])
async def runs(request: Request) -> Template | Response[bytes]:
    state = ListState.read(request, sorts=RUN_SORTS, default_sort="-id",
                           filters=("flow_id", "status", "version"))
    flow_rows = await service.list_flows()
    flow_names = {f["id"]: f["name"] for f in flow_rows}
    where = []
    if (flow_id := state.int_value("flow_id")) is not None:
        where.append(FlowRun.flow_id == flow_id)
    if (version := state.int_value("version")) is not None:
        where.append(FlowRun.version == version)
    status = state.value("status")
    if status in service.RUN_STATUSES:
        where.append(FlowRun.status == status)
    if state.q:
        where.append(FlowRun.subject.ilike(like_pattern(state.q)))

    async def fetch(page_number: int, per_page: int) -> tuple[list[Any], int]:
        query = FlowRun.scoped_select(
            FlowRun.id, FlowRun.flow_id, FlowRun.version_id, FlowRun.version,
            FlowRun.subject, FlowRun.node_id, FlowRun.status, FlowRun.updated_at).where(*where)
        rows = await query.order_by(FlowRun.id, ascending=state.sort == "id").limit(
            per_page).offset((page_number - 1) * per_page)
        return rows, await FlowRun.scoped_count().where(*where)

    columns = _run_columns()
    fmt = export_format(request)
    if fmt:
        rows, cut = await collect_all(fetch)
        labels = await _node_labels({r["version_id"] for r in rows})
        return export_response(fmt, "flow-runs", columns,
                               _run_cells(rows, flow_names, labels), cut=cut)
    rows, total = await fetch(state.page, state.per_page)
    labels = await _node_labels({r["version_id"] for r in rows})
    view = ListView(
        state=state, columns=columns, rows=_run_cells(rows, flow_names, labels), total=total,
        search_label=_("Search subject"), empty=_("No runs match these filters."),
        filters=[Filter("flow_id", _("Flow"), options(
                    {str(f["id"]): f"{f['name']} ({f['code']})" for f in flow_rows},
                    all_label=_("All flows"))),
                 Filter("status", _("Status"), options(
                     {key: _(title) for key, title in RUN_STATUS_TITLES.items()},
                     all_label=_("Any status")))])
    if state.filters.get("version"):
        view.filters = [*view.filters, Filter("version", _("Version"), options(
            {state.filters["version"]: _("Version %(version)s",
                                         version=state.filters["version"])},
            all_label=_("All versions")))]
    return list_page(request, "core/flow_runs.html", view, flash=flash_text(request))


# ------------------------------------------------------------------------------ one run


def _form_fields(settings: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A form node's fields (``flow_nodes``' ``fields`` setting: key, label, kind …)."""
    fields = settings.get("fields")
    if not isinstance(fields, list):
        return []
    found = []
    for item in fields:
        if isinstance(item, dict) and isinstance(item.get("key"), str):
            found.append({"key": item["key"], "label": item.get("label") or item["key"],
                          "kind": item.get("kind") or "text",
                          "required": bool(item.get("required")),
                          "choices": [str(c) for c in item.get("choices") or []],
                          "minimum": item.get("minimum"), "maximum": item.get("maximum"),
                          "help": item.get("help") or ""})
    return found


def _shown(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return "—"
    return json.dumps(value, ensure_ascii=False)


async def _people(ids: set[int]) -> dict[int, str]:
    names = {}
    for user_id in sorted(ids):
        try:
            row = await users.get_user(user_id)
        except JimuError:
            names[user_id] = f"#{user_id}"
            continue
        names[user_id] = row.get("display_name") or row["username"]
    return names


def _data_sections(data: Mapping[str, Any], nodes: Mapping[str, dict[str, Any]]
                   ) -> list[dict[str, Any]]:
    """The run's data, grouped by the node that wrote it, each value named by its field."""
    sections = []
    for key, value in data.items():
        if key.startswith("_"):
            continue  # the runtime's own bookkeeping (field kinds for conditions)
        node = nodes.get(key)
        fields = {f["key"]: f["label"] for f in _form_fields((node or {}).get("settings") or {})}
        if isinstance(value, dict):
            items = [(fields.get(k, k), _shown(v)) for k, v in value.items()]
        else:
            items = [("", _shown(value))]
        sections.append({"title": (node or {}).get("label") or key, "entries": items})
    return sections


def _changes(changes: Mapping[str, Any], nodes: Mapping[str, dict[str, Any]]) -> list[str]:
    lines = []
    for key, value in changes.items():
        if key.startswith("_"):
            continue
        node = nodes.get(key)
        fields = {f["key"]: f["label"] for f in _form_fields((node or {}).get("settings") or {})}
        if isinstance(value, dict):
            lines += [f"{fields.get(k, k)}: {_shown(v)}" for k, v in value.items()]
        elif key == "version" and isinstance(value, list) and len(value) == 2:
            lines.append(_("Version %(old)s → %(new)s", old=value[0], new=value[1]))
        else:
            lines.append(f"{key}: {_shown(value)}")
    return lines


async def _run_page(request: Request, run_id: int, *, status: int = 200, error: str = "",
                    form: FormState | None = None) -> Template:
    run = await service.get_run(run_id)
    steps = await service.run_steps(run_id)
    flow = await service.get_flow(run["flow_id"])
    version = await service.get_version(run["flow_id"], run["version"])
    nodes = {n["id"]: n for n in (version["graph"] or {}).get("nodes", [])}
    offered = service.offered_node_types()
    current = nodes.get(run["node_id"], {"id": run["node_id"], "type": "", "settings": {}})
    current_type = offered.get(current.get("type", ""))
    people = await _people({s["actor_id"] for s in steps if s["actor_id"]}
                           | set(run["assignees"] or []))
    timeline = [{
        "seq": s["seq"], "at": s["at"], "kind": _t(STEP_KIND_TITLES, s["kind"]),
        "kind_key": s["kind"],
        "node": (nodes.get(s["node_id"]) or {}).get("label") or s["node_id"],
        "action": _t(ACTION_TITLES, s["action"]) if s["action"] else "",
        "outcome": _t(OUTCOME_TITLES, s["outcome"]) if s["outcome"] else "",
        "who": people.get(s["actor_id"], "") if s["actor_id"] else "",
        "note": s["note"], "changes": _changes(s["changes"] or {}, nodes)}
        for s in reversed(steps)]
    state = ui()
    can_act = state.can("flows.act") and run["status"] in ("waiting", "stuck")
    actions = list(run["actions"] or [])
    fields = _form_fields(current.get("settings") or {}) if run["status"] == "waiting" else []
    delegates: list[tuple[str, str]] = []
    if "delegate" in actions:
        rows, _total = await users.list_users(active=True, per_page=200)
        delegates = [(str(u["id"]), u.get("display_name") or u["username"]) for u in rows]
    return page(
        "core/flow_run.html", status=status, run=run, flow=flow, node=current,
        node_type_title=localized_text(current_type[1].title) if current_type else
        current.get("type", ""),
        status_title=_t(RUN_STATUS_TITLES, run["status"]), timeline=timeline,
        data_sections=_data_sections(run["data"] or {}, nodes),
        actions=[(a, _t(ACTION_TITLES, a)) for a in actions], fields=fields,
        field_kinds={k: _(v) for k, v in ENUM_TITLES.items()}, delegates=delegates,
        assignees=[people.get(a, f"#{a}") for a in run["assignees"] or []],
        can_act=can_act, can_cancel=state.can("flows.write")
        and run["status"] not in ("completed", "cancelled"),
        error=error, form=form or FormState(),
        flash=flash_text(request) if status == 200 and not error else "")


@get("/admin/flow-runs/{run_id:int}", include_in_schema=False,
     guards=[requires("flows.read")])
async def run_detail(request: Request, run_id: RecordIdParam) -> Template:
    return await _run_page(request, run_id)


def _payload(action: str, data: Mapping[str, Any], fields: list[dict[str, Any]]
             ) -> dict[str, Any]:
    """What the person filled in, as the node type takes it: a form's fields by key (blank
    ones left out, so a required one is reported missing), else a comment (and whom to
    delegate to)."""
    if fields:
        payload: dict[str, Any] = {}
        for spec in fields:
            raw = data.get(f"field.{spec['key']}")
            text = (raw[-1] if isinstance(raw, list) else str(raw or "")).strip()
            if not text:
                continue
            if spec["kind"] == "photo":
                payload[spec["key"]] = [p for p in re.split(r"[\s,]+", text) if p]
            else:
                payload[spec["key"]] = text
        return payload
    payload = {}
    comment = str(data.get("comment") or "").strip()
    if comment:
        payload["comment"] = comment[:500]
    if action == "delegate":
        to = _positive(data.get("to"))
        if to is not None:
            payload["to"] = to
    return payload


def _field_errors(exc: JimuError, fields: list[dict[str, Any]],
                  data: Mapping[str, Any]) -> dict[str, str]:
    """Each problem next to its field; a required field left blank says so in the page's
    language."""
    specs = {f["key"]: f for f in fields}
    errors: dict[str, str] = {}
    for item in getattr(exc, "errors", None) or []:
        key = item.get("field") or ""
        spec = specs.get(key)
        if spec is None:
            continue
        blank = not str(data.get(f"field.{key}") or "").strip()
        errors[f"field.{key}"] = (_("This field is required.") if spec["required"] and blank
                                  else item.get("message", ""))
    return errors


@post("/admin/flow-runs/{run_id:int}/actions", include_in_schema=False,
      guards=[requires("flows.act")])
async def act(request: Request, run_id: RecordIdParam) -> Template | Redirect:
    run = await service.get_run(run_id)
    data = await form_data(request)
    action = str(data.get("action") or "").strip()[:63]
    text = str(data.get("revision") or "").strip()
    revision = int(text) if text.isdigit() and len(text) < 10 else None
    fields: list[dict[str, Any]] = []
    if run["status"] == "waiting":
        version = await service.get_version(run["flow_id"], run["version"])
        node: dict[str, Any] = next((n for n in (version["graph"] or {}).get("nodes", [])
                                     if n.get("id") == run["node_id"]), {})
        fields = _form_fields(node.get("settings") or {})
    try:
        await service.act(run_id, action, _payload(action, data, fields), revision=revision)
    except JimuError as exc:
        if not belongs_on_form(exc):
            raise
        errors = _field_errors(exc, fields, data)
        form = FormState(values=dict(data), errors=errors)
        return await _run_page(request, run_id, status=exc.status_code,
                               error=error_text(exc), form=form)
    return redirect(f"/admin/flow-runs/{run_id}", flash=N_("Done: the run has moved on."))


@post("/admin/flow-runs/{run_id:int}/cancel", include_in_schema=False,
      guards=[requires("flows.write")])
async def cancel(request: Request, run_id: RecordIdParam) -> Template | Redirect:
    await service.get_run(run_id)
    data = await form_data(request)
    try:
        await service.cancel(run_id, reason=str(data.get("reason") or "").strip()[:2000])
    except JimuError as exc:
        if not belongs_on_form(exc):
            raise
        return await _run_page(request, run_id, status=exc.status_code, error=error_text(exc))
    return redirect(f"/admin/flow-runs/{run_id}", flash=N_("Run cancelled."))


ROUTES = [flows, new_flow, create_flow, designer, designer_version, migrate, start_run, runs,
          run_detail, act, cancel]
