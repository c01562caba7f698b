"""Plugin entry point of flow_nodes: the basic node types of the flow designer's palette."""

from __future__ import annotations

from pathlib import Path

from jimu_sdk import PluginMeta, hookimpl, localized

from jimu_flow_nodes import demo, outbound, settings
from jimu_flow_nodes.nodes import NODE_TYPES

meta = PluginMeta(
    name="flow_nodes",
    version="0.1.0",
    title=localized("基础流程节点", "Basic flow nodes"),
    description=localized(
        "流程设计器的基础节点：开始、结束、阶段表单（自定义字段与必填校验）、审批（一人/任一/"
        "全部/依次，可转交）、等待、条件分支、通知、外部回调（签名、自动重试）。",
        "The basic nodes of the flow designer: start, end, stage form (custom fields, required "
        "checks), approval (one, any, all, in sequence; delegation), wait, condition "
        "branch, notify and outbound webhook (signed, retried)."),
    author="Jimu team",
    requires_core=">=1.0,<2",
)


@hookimpl
def register_workflow_nodes():
    return [*NODE_TYPES, *outbound.NODE_TYPES]


@hookimpl
def register_settings_schema():
    return settings.Settings


@hookimpl
def register_demo_data():
    return demo.seed


@hookimpl
def register_translations():
    return str(Path(__file__).parent / "locale")
