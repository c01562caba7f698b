"""Demo data: the working-day calendar with 2026's public holidays and make-up days, and the
policies of the seeds (complaints resolved within 6 hours: 投诉处理时效从48小时压缩到6小时以内)
and of the preset flows (returns, pre-sales consultation)."""

from __future__ import annotations

from jimu_sla import services

WORKDAY = [["09:00", "18:00"]]


async def seed(tenant_id: int) -> None:
    calendar = await services.create_calendar(services.CalendarIn(
        name="工作日 9:00–18:00 (含法定节假日)",
        description="周一至周五 9:00–18:00；法定节假日休息，调休上班日照常工作。",
        weekly_hours={day: WORKDAY for day in ("mon", "tue", "wed", "thu", "fri")}))
    await services.load_china_holidays(calendar["id"], 2026)
    for policy in (
        services.PolicyIn(name="投诉 6 小时解决", types=["complaint"], position=10,
                          response_minutes=120, resolution_minutes=6 * 60,
                          calendar_id=calendar["id"], escalate_roles=["admin"],
                          escalate_priority="urgent"),
        services.PolicyIn(name="退换货 2 小时响应、24 小时办结", types=["returns"], position=12,
                          response_minutes=120, resolution_minutes=24 * 60,
                          calendar_id=calendar["id"], escalate_roles=["admin"]),
        services.PolicyIn(name="售前咨询 2 小时响应", types=["presales"], position=14,
                          response_minutes=120, calendar_id=calendar["id"],
                          escalate_roles=["admin"]),
        services.PolicyIn(name="紧急工单 2 小时响应、8 小时解决", priorities=["urgent"],
                          position=20, response_minutes=120, resolution_minutes=8 * 60,
                          calendar_id=calendar["id"], escalate_roles=["admin"]),
        services.PolicyIn(name="默认 4 小时响应、24 小时解决", position=100,
                          response_minutes=4 * 60, resolution_minutes=24 * 60,
                          calendar_id=calendar["id"], escalate_roles=["admin"],
                          escalate_priority="high"),
    ):
        await services.create_policy(policy)
