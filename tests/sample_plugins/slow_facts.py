"""An async customer fact that never answers in time."""

import asyncio

from jimu_sdk import PluginMeta, hookimpl, localized

meta = PluginMeta(name="slow_facts", version="0.1.0", title=localized("慢", "Slow"),
                  description=localized("超时", "Times out"), author="tests",
                  requires_core=">=1.0")


@hookimpl
async def customer_facts(customer):
    await asyncio.sleep(30)
    return {"slow_facts.never": True}
