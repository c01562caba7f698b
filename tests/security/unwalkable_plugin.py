"""A plugin whose route the isolation walker cannot fill: no collection lists its widgets."""

from jimu_sdk import PluginMeta, hookimpl, localized
from litestar import get

meta = PluginMeta(name="unwalkable", version="0.1.0", title=localized("部件", "Widgets"),
                  description=localized("无列表", "No list route"), author="tests",
                  requires_core=">=1.0")


@get("/widgets/{widget_id:int}")
async def get_widget(widget_id: int) -> dict[str, int]:
    return {"id": widget_id}


@hookimpl
def register_routes():
    return [get_widget]
