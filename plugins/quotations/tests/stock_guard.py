"""A test-only plugin whose in-transaction ``orders.created`` handler refuses every order,
as a parts library without enough stock would."""

from jimu_sdk import Conflict, EventHandler, PluginMeta, hookimpl, localized

meta = PluginMeta(name="stock_guard", version="0.0.1", title=localized("库存", "Stock"),
                  description=localized("测试", "Test"), author="tests",
                  requires_core=">=1.0,<2")


async def reserve(event):
    raise Conflict("not enough stock of TEA-500-CASE in warehouse BJ-01", field="lines")


@hookimpl
def register_event_handlers():
    return [EventHandler(event_type="orders.created", name="reserve", handle=reserve,
                         in_transaction=True)]
