"""The flows this plugin ships, ready to install, copy and adapt: equipment repair (设备维修),
returns and exchanges (退换货), complaint handling (投诉处理) and pre-sales consultation →
order → after-sales follow-up (售前咨询), each with its forms, the customer notifications on
the way and the SLA it is meant to keep.

A tenant gets a preset the first time a work order of a type running its code is created (or
with the demo data, or from the presets page and API), and may then change it in the flow
designer: an installed flow is never overwritten. The repair preset records the parts used and
takes them out of stock when the tenant has the parts library's ``parts`` node when it is
installed.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jimu_sdk import N_, Conflict, Localized, NotFound, ValidationFailed, localized, platform

SLUG = "work_orders"
FLOW_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")
MAX_NAME = 200
WORK_ORDER_LINK = "/admin/p/work_orders/{{work_order.id}}"
FOLLOW_UP_MINUTES = 7 * 24 * 60

REPAIR_FLOW_CODE = "wo-repair"
RETURNS_FLOW_CODE = "wo-returns"
COMPLAINT_FLOW_CODE = "wo-complaint"
PRESALES_FLOW_CODE = "wo-presales"


# ----------------------------------------------------------------------------- graph pieces


def _node(node_id: str, kind: str, label: str, x: int, y: int, **settings: Any
          ) -> dict[str, Any]:
    node: dict[str, Any] = {"id": node_id, "type": kind, "label": label, "x": x, "y": y}
    if settings:
        node["settings"] = settings
    return node


def _edge(source: str, target: str, outcome: str = "next", label: str = "") -> dict[str, Any]:
    edge = {"source": source, "target": target, "outcome": outcome}
    if label:
        edge["label"] = label
    return edge


def _field(key: str, label: str, kind: str = "text", **extra: Any) -> dict[str, Any]:
    return {"key": key, "label": label, "kind": kind, **extra}


def _form(node_id: str, label: str, x: int, y: int, *fields: dict[str, Any]) -> dict[str, Any]:
    return _node(node_id, "form", label, x, y, fields=list(fields))


def _tell_customer(node_id: str, label: str, x: int, y: int, title: str, body: str = ""
                   ) -> dict[str, Any]:
    """A message for the customer: through their channel once a channel plugin is on; until
    then the work order's assignee is asked to pass it on, and the timeline says so."""
    return _node(node_id, "notify", label, x, y, title=title, body=body, customer=True,
                 data_fields=["assignee_id"], link=WORK_ORDER_LINK)


def _dispatch(x: int, y: int, label: str = "派单") -> list[dict[str, Any]]:
    """Dispatch by region (nearest team), with a manual step when no team covers it."""
    return [
        _node("dispatch", "assign", label, x, y, strategy="region"),
        _form("manual", "人工派单", x, y + 140,
              _field("note", "派单说明", "textarea",
                     help="先在工单上指定处理人或班组，再提交")),
    ]


# ----------------------------------------------------------------------------- the flows


def repair_graph(*, parts: bool) -> dict[str, Any]:
    """设备维修: online report → dispatch → on-site repair → (parts used, taken out of stock)
    → customer confirmation → rating request → customer rating."""
    after_repair = "parts" if parts else "confirm"
    shift = 170 if parts else 0
    nodes = [
        _node("start", "start", "线上报修", 60, 200),
        *_dispatch(220, 200),
        _form("repair", "现场维修", 400, 200,
              _field("fault", "故障现象", required=True),
              _field("solution", "处理措施", "textarea", required=True),
              _field("photos", "现场照片", "photo", required=True),
              _field("labour_hours", "工时（小时）", "number", minimum="0", maximum="200"),
              _field("finished_on", "完工日期", "date")),
    ]
    if parts:
        nodes.append(_node("parts", "parts", "登记用料", 570, 200, mode="consume", ask=True))
    nodes += [
        _node("confirm", "approval", "客户确认", 570 + shift, 200, mode="any"),
        _tell_customer("ask_rating", "邀请评分", 740 + shift, 200,
                       "工单 {{number}} 已完工，请为本次维修服务评分",
                       "1–5 分，5 分为非常满意；您的意见会帮助我们改进服务。"),
        _form("rate", "客户评分", 910 + shift, 200,
              _field("score", "评分（1–5）", "number", required=True, minimum="1",
                     maximum="5"),
              _field("comment", "评价", "textarea")),
        _node("done", "end", "已完成", 1080 + shift, 200),
    ]
    edges = [
        _edge("start", "dispatch"),
        _edge("dispatch", "repair", "assigned", "已派单"),
        _edge("dispatch", "manual", "unassigned", "无人匹配"),
        _edge("manual", "repair", "submitted"),
        _edge("repair", after_repair, "submitted"),
        *([_edge("parts", "confirm")] if parts else []),
        _edge("confirm", "ask_rating", "approved", "确认完成"),
        _edge("confirm", "repair", "rejected", "返修"),
        _edge("ask_rating", "rate"),
        _edge("rate", "done", "submitted"),
    ]
    return {"nodes": nodes, "edges": edges}


RETURNS_FLOW: dict[str, Any] = {
    "nodes": [
        _node("start", "start", "客户申请", 60, 200),
        _form("apply", "退换货申请", 220, 200,
              _field("kind", "退换类型", "choice", required=True, choices=["退货", "换货"]),
              _field("order_no", "订单号", required=True),
              _field("reason", "原因", "choice", required=True,
                     choices=["质量问题", "发错货", "尺寸或规格不符", "七天无理由", "其他"]),
              _field("detail", "问题描述", "textarea"),
              _field("photos", "凭证照片", "photo"),
              _field("refund", "退款金额", "money", minimum="0")),
        _tell_customer("applied", "通知客户：已受理", 390, 200,
                       "您的退换货申请 {{number}} 已受理，正在安排质检"),
        _node("qc", "approval", "质检审核", 560, 200, mode="any"),
        _tell_customer("qc_passed", "通知客户：质检通过", 730, 200,
                       "退换货 {{number}} 已通过质检，仓库正在处理"),
        _tell_customer("qc_failed", "通知客户：未通过质检", 560, 340,
                       "退换货 {{number}} 未通过质检", "质检说明：{{qc.comment}}"),
        _node("rejected", "end", "已驳回", 730, 340),
        _form("warehouse", "仓库处理", 900, 200,
              _field("handling", "处理方式", "choice", required=True,
                     choices=["退货入库", "换货出库"]),
              _field("stock_ref", "入库或出库单号"),
              _field("note", "说明", "textarea")),
        _tell_customer("stocked", "通知客户：仓库已处理", 1070, 200,
                       "退换货 {{number}} 仓库已处理：{{warehouse.handling}}"),
        _form("logistics", "物流跟踪", 1240, 200,
              _field("carrier", "物流公司", required=True),
              _field("tracking_no", "运单号", required=True),
              _field("shipped_on", "发货日期", "date")),
        _tell_customer("shipped", "通知客户：已发货", 1410, 200,
                       "退换货 {{number}} 已发出：{{logistics.carrier}} "
                       "{{logistics.tracking_no}}"),
        _node("done", "end", "已完成", 1580, 200),
    ],
    "edges": [
        _edge("start", "apply"),
        _edge("apply", "applied", "submitted"),
        _edge("applied", "qc"),
        _edge("qc", "qc_passed", "approved", "质检通过"),
        _edge("qc", "qc_failed", "rejected", "不通过"),
        _edge("qc_failed", "rejected"),
        _edge("qc_passed", "warehouse"),
        _edge("warehouse", "stocked", "submitted"),
        _edge("stocked", "logistics"),
        _edge("logistics", "shipped", "submitted"),
        _edge("shipped", "done"),
    ],
}

COMPLAINT_FLOW: dict[str, Any] = {
    "nodes": [
        _node("start", "start", "受理投诉", 60, 200),
        *_dispatch(220, 200, "分派处理人"),
        _tell_customer("received", "通知客户：已受理", 390, 200,
                       "您的投诉 {{number}} 已受理，我们会在 6 小时内给您答复"),
        _form("handle", "投诉处理", 560, 200,
              _field("category", "投诉类别", "choice", required=True,
                     choices=["服务态度", "产品质量", "配送延误", "价格争议", "其他"]),
              _field("resolution", "处理结果", "textarea", required=True),
              _field("compensation", "补偿方案"),
              _field("compensation_amount", "补偿金额", "money", minimum="0")),
        _tell_customer("resolved", "通知客户：处理结果", 730, 200,
                       "您的投诉 {{number}} 已处理", "{{handle.resolution}}"),
        _node("confirm", "approval", "客户确认", 900, 200, mode="any"),
        _node("escalate", "notify", "升级给管理员", 730, 340,
              title="投诉 {{number}} 客户不满意，已升级", body="客户意见：{{confirm.comment}}",
              level="warning", roles=["admin"], link=WORK_ORDER_LINK),
        _node("done", "end", "已办结", 1070, 200),
    ],
    "edges": [
        _edge("start", "dispatch"),
        _edge("dispatch", "received", "assigned", "已分派"),
        _edge("dispatch", "manual", "unassigned", "无人匹配"),
        _edge("manual", "received", "submitted"),
        _edge("received", "handle"),
        _edge("handle", "resolved", "submitted"),
        _edge("resolved", "confirm"),
        _edge("confirm", "done", "approved", "客户满意"),
        _edge("confirm", "escalate", "rejected", "不满意"),
        _edge("escalate", "handle"),
    ],
}

PRESALES_FLOW: dict[str, Any] = {
    "nodes": [
        _node("start", "start", "咨询登记", 60, 200),
        _node("sales", "assign", "转销售", 220, 200, strategy="skill", skill="销售"),
        _form("consult", "售前咨询", 390, 200,
              _field("need", "客户需求", "textarea", required=True),
              _field("product", "意向产品"),
              _field("budget", "预算", "money", minimum="0"),
              _field("phone", "联系电话", "phone"),
              _field("visit_on", "预约到店或试用日期", "date")),
        _form("deal", "成交登记", 560, 200,
              _field("result", "结果", "choice", required=True, choices=["已下单", "未成交"]),
              _field("order_no", "订单号"),
              _field("order_amount", "订单金额", "money", minimum="0"),
              _field("lost_reason", "未成交原因")),
        _node("won", "branch", "是否成交", 730, 200, cases=[
            {"outcome": "ordered", "condition": 'deal.result == "已下单"', "label": "已下单"}]),
        _node("lost", "end", "未成交", 730, 340),
        _tell_customer("ordered", "通知客户：订单确认", 900, 200,
                       "感谢您的订购，订单 {{deal.order_no}} 已确认",
                       "如有任何问题，请随时联系我们。"),
        _node("service", "assign", "转售后", 1070, 200, strategy="skill", skill="售后"),
        _node("wait", "wait", "7 天后回访", 1240, 200, minutes=FOLLOW_UP_MINUTES,
              skippable=True),
        _form("followup", "售后回访", 1410, 200,
              _field("satisfaction", "满意度", "choice", required=True,
                     choices=["非常满意", "满意", "一般", "不满意"]),
              _field("notes", "回访记录", "textarea", required=True),
              _field("needs_service", "需要售后服务", "choice", choices=["否", "是"])),
        _node("done", "end", "已完成", 1580, 200),
    ],
    "edges": [
        _edge("start", "sales"),
        # Whether or not a sales team has the skill, the consultation goes on.
        _edge("sales", "consult", "assigned", "已分派"),
        _edge("sales", "consult", "unassigned", "无人匹配"),
        _edge("consult", "deal", "submitted"),
        _edge("deal", "won", "submitted"),
        _edge("won", "ordered", "ordered", "已下单"),
        _edge("won", "lost", "default", "未成交"),
        _edge("ordered", "service"),
        _edge("service", "wait", "assigned", "已分派"),
        _edge("service", "wait", "unassigned", "无人匹配"),
        _edge("wait", "followup"),
        _edge("followup", "done", "submitted"),
    ],
}


# ----------------------------------------------------------------------------- the presets


@dataclass(frozen=True)
class Step:
    """A stage shown on the preset's card: the node it is, and whether the customer is told."""

    node_id: str
    title: Localized
    tells_customer: bool = False


@dataclass(frozen=True)
class Preset:
    code: str  # the flow code it installs under by default
    type_key: str
    type_title: str
    name: Localized
    description: Localized
    flow_name: str
    steps: tuple[Step, ...]
    customer_steps: tuple[str, ...] = ()
    response_minutes: int | None = None  # the SLA it is meant to keep, in business time
    resolution_minutes: int | None = None
    graph: Mapping[str, Any] | None = None  # None: built by repair_graph

    def work_order_type(self, flow_code: str | None = None) -> dict[str, Any]:
        return {"key": self.type_key, "title": self.type_title,
                "flow": flow_code or self.code, "customer_steps": list(self.customer_steps)}


PRESETS: dict[str, Preset] = {p.code: p for p in (
    Preset(
        code=REPAIR_FLOW_CODE, type_key="repair", type_title="设备维修",
        name=localized("设备维修", "Equipment repair"),
        description=localized(
            "线上报修，按区域派单给工程师，现场维修（照片必填），客户确认后评分；无人匹配时人工"
            "派单，客户不满意则返修。启用备件库时，维修后登记用料并从库存扣减。",
            "Reported online, dispatched to an engineer by region, repaired on site (photos "
            "required), confirmed and rated by the customer; nobody fits: dispatched by hand; "
            "not fixed: back to the repair. With the parts library on, the parts used are "
            "recorded and taken out of stock."),
        flow_name="设备维修（工单）",
        steps=(Step("start", localized("线上报修", "Online report")),
               Step("dispatch", localized("派单给工程师", "Dispatch an engineer")),
               Step("repair", localized("现场维修", "On-site repair")),
               Step("parts", localized("登记用料，扣减库存", "Parts used, taken from stock")),
               Step("confirm", localized("客户确认", "Customer confirms")),
               Step("rate", localized("客户评分", "Customer rating"), tells_customer=True)),
        customer_steps=("confirm", "rate"), response_minutes=4 * 60,
        resolution_minutes=24 * 60),
    Preset(
        code=RETURNS_FLOW_CODE, type_key="returns", type_title="退换货",
        name=localized("退换货", "Returns and exchanges"),
        description=localized(
            "客户申请 → 质检审核 → 仓库处理 → 物流跟踪，每一步都通知客户；质检不通过则告知"
            "客户原因并结束。",
            "Customer applies → quality check → warehouse → shipment tracking, with the "
            "customer told at every step; failing the quality check ends it, telling the "
            "customer why."),
        flow_name="退换货（工单）",
        steps=(Step("apply", localized("客户申请", "Customer applies"), True),
               Step("qc", localized("质检审核", "Quality check"), True),
               Step("warehouse", localized("仓库处理", "Warehouse"), True),
               Step("logistics", localized("物流跟踪", "Shipment tracking"), True)),
        response_minutes=2 * 60, resolution_minutes=24 * 60, graph=RETURNS_FLOW),
    Preset(
        code=COMPLAINT_FLOW_CODE, type_key="complaint", type_title="投诉",
        name=localized("投诉处理", "Complaint handling"),
        description=localized(
            "受理投诉并告知客户，按区域分派，处理后答复客户并请客户确认；客户不满意则升级给"
            "管理员重新处理。目标 6 小时内解决。",
            "Received and acknowledged to the customer, dispatched by region, answered and "
            "confirmed by the customer; a dissatisfied customer escalates it to the admins "
            "and it is handled again. Target: resolved within 6 hours."),
        flow_name="投诉处理（工单）",
        steps=(Step("start", localized("受理投诉", "Complaint received")),
               Step("dispatch", localized("分派处理人", "Dispatch"), True),
               Step("handle", localized("处理并答复客户", "Handle and answer"), True),
               Step("confirm", localized("客户确认，不满意则升级",
                                         "Customer confirms, or it is escalated"))),
        customer_steps=("confirm",), response_minutes=2 * 60, resolution_minutes=6 * 60,
        graph=COMPLAINT_FLOW),
    Preset(
        code=PRESALES_FLOW_CODE, type_key="presales", type_title="售前咨询",
        name=localized("售前咨询 → 订单 → 售后回访",
                       "Pre-sales → order → after-sales follow-up"),
        description=localized(
            "转给销售，记录客户需求与预算，登记成交；已下单则通知客户、转售后，7 天后回访"
            "满意度；未成交则记录原因结束。",
            "Passed to sales, the customer's needs and budget recorded, the deal registered; "
            "an order is confirmed to the customer, passed to after-sales and followed up "
            "after 7 days; a lost deal ends with its reason."),
        flow_name="售前咨询与回访（工单）",
        steps=(Step("sales", localized("转给销售", "To sales")),
               Step("consult", localized("售前咨询", "Consultation")),
               Step("deal", localized("成交登记", "Deal")),
               Step("ordered", localized("订单确认", "Order confirmed"), True),
               Step("followup", localized("7 天后售后回访", "Follow-up after 7 days"))),
        response_minutes=2 * 60, graph=PRESALES_FLOW),
)}

DEFAULT_TYPES: list[dict[str, Any]] = [p.work_order_type() for p in PRESETS.values()]
"""The work order types a tenant starts with (the plugin's settings default): one per
preset, repair first."""


# ----------------------------------------------------------------------------- installing


def offered_node_types() -> set[str]:
    """Keys of the node types the tenant's enabled plugins offer."""
    return {node_type.key for _, node_type in
            platform().contributions("register_workflow_nodes")}


def graph_for(preset: Preset, offered: set[str] | None = None) -> dict[str, Any]:
    """The graph ``preset`` installs now: the repair with the parts step when the parts
    node is offered."""
    if preset.graph is not None:
        return dict(preset.graph)
    types = offered if offered is not None else offered_node_types()
    return repair_graph(parts="parts" in types)


def get_preset(code: str) -> Preset:
    preset = PRESETS.get(code)
    if preset is None:
        raise NotFound(N_("no preset flow %(code)s; the presets are %(allowed)s"),
                       params={"code": code, "allowed": ", ".join(PRESETS)})
    return preset


async def ensure_installed(code: str) -> None:
    """Install the preset flow ``code`` unless the tenant has a flow of that code already."""
    preset = PRESETS.get(code)
    if preset is not None:
        await platform().install_flow(code, preset.flow_name, graph_for(preset),
                                      subject=SLUG, description=preset.description["zh-CN"])


async def find_flow(code: str) -> Mapping[str, Any] | None:
    """The tenant's flow ``code`` (``id, code, name, live_version, …``), or ``None``."""
    return await platform().find_flow(code)


def _taken(code: str, flow: Mapping[str, Any]) -> Conflict:
    return Conflict(N_("a flow with the code %(code)s exists already (%(name)s): install a "
                       "copy under another code, or change that flow in the flow designer"),
                    field="code", params={"code": code, "name": flow.get("name", "")},
                    flow_id=flow.get("id"))


def _made_before(flow: Mapping[str, Any], moment: dt.datetime) -> bool:
    created = flow.get("created_at")
    return isinstance(created, dt.datetime) and created.tzinfo is not None and created < moment


async def install(preset_code: str, *, code: str | None = None, name: str | None = None
                  ) -> dict[str, Any]:
    """Install preset ``preset_code`` as a published flow (under its own code, or as a copy
    under ``code``, named ``name``) and add its work order type to the settings when the
    tenant has none of that key. 404 for an unknown preset, 409 when the code is taken, 422
    for a bad code or name."""
    preset = get_preset(preset_code)
    code = (code or "").strip() or preset.code
    if not FLOW_CODE.match(code):
        raise ValidationFailed(N_("a flow code is 1-63 letters, digits, '-' or '_', starting "
                                  "with a letter or digit"), field="code")
    name = (name or "").strip() or preset.flow_name
    if len(name) > MAX_NAME:
        raise ValidationFailed(N_("a flow name has at most %(max)s characters"), field="name",
                               params={"max": MAX_NAME})
    existing = await find_flow(code)
    if existing is not None:
        raise _taken(code, existing)
    graph = graph_for(preset)
    before = platform().now()
    flow = await platform().install_flow(code, name, graph, subject=SLUG,
                                         description=preset.description["zh-CN"])
    # install_flow hands back a flow that was there already: by its name or its age.
    if flow.get("name") != name or _made_before(flow, before):
        raise _taken(code, flow)
    added, missing = await _add_type(preset, code)
    return {"preset": preset.code, "flow_id": flow["id"], "code": flow["code"],
            "name": flow["name"], "live_version": flow.get("live_version"),
            "designer_url": designer_url(flow["id"]), "node_count": len(graph["nodes"]),
            "parts": any(n["type"] == "parts" for n in graph["nodes"]),
            "types_added": added, "types_missing": missing}


async def _add_type(preset: Preset, flow_code: str) -> tuple[list[str], list[str]]:
    """Add the preset's work order type (running ``flow_code``) when the tenant has no type
    of its key; ``(added, still missing)``."""
    current = dict(platform().settings(SLUG))
    types = [dict(t) for t in current.get("types") or []]
    if any(t.get("key") == preset.type_key for t in types):
        return [], []
    await platform().save_settings(
        SLUG, {**current, "types": [*types, preset.work_order_type(flow_code)]})
    return [preset.type_key], []


def designer_url(flow_id: int) -> str:
    return f"/admin/flows/{flow_id}"


async def list_presets() -> list[dict[str, Any]]:
    """Every preset with what this tenant would get: its steps in order (the parts step
    only when the parts node is offered), node count, SLA, whether its flow is installed
    and the types running it."""
    offered = offered_node_types()
    types = [dict(t) for t in platform().settings(SLUG).get("types") or []]
    listed = []
    for preset in PRESETS.values():
        graph = graph_for(preset, offered)
        node_ids = {n["id"] for n in graph["nodes"]}
        flow = await find_flow(preset.code)
        listed.append({
            "code": preset.code, "name": preset.name, "description": preset.description,
            "type": preset.type_key, "type_title": preset.type_title,
            "customer_steps": list(preset.customer_steps),
            "steps": [{"node_id": s.node_id, "title": s.title,
                       "tells_customer": s.tells_customer}
                      for s in preset.steps if s.node_id in node_ids],
            "node_count": len(graph["nodes"]),
            "parts": "parts" in node_ids,
            "response_minutes": preset.response_minutes,
            "resolution_minutes": preset.resolution_minutes,
            "installed": flow is not None,
            "flow_id": flow["id"] if flow is not None else None,
            "designer_url": designer_url(flow["id"]) if flow is not None else None,
            "used_by": [t["key"] for t in types if t.get("flow") == preset.code],
        })
    return listed
