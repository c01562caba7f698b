"""Demo data: the seeds' rule — order amount above 5000 or a platinum customer → urgent, with
customer service, logistics and after-sales told at once."""

from __future__ import annotations

from jimu_priority_rules import services
from jimu_priority_rules.tables import Rule

DEPARTMENTS = ("客服部", "物流部", "售后部")


async def seed(tenant_id: int) -> None:
    for name in DEPARTMENTS:
        await services.work_orders.ensure_team(name)
    if not await Rule.scoped_count().where(Rule.name == "大额或铂金客户"):
        await services.create_rule({
            "name": "大额或铂金客户", "condition": 'amount > 5000 || customer.level == "platinum"',
            "priority": "urgent", "notify_teams": list(DEPARTMENTS),
            "note": "订单金额超过 5000 元或铂金客户：设为紧急，客服、物流、售后同时通知"})
