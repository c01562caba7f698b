"""Demo data (the seeds: 工单收益透明, 阶梯返利, 按订单量分成, 结算单): the repair fee schedule
and split rules (70% of labour and the call-out fee to the installer, 10% of parts to the
dealer), North China's ladder rebate beside South China's volume share, the dealers' purchases
of last month and of this month so far imported from the system used before Jimu, targets,
and a settlement run of last month that closes it. Completed orders and work orders of the
other plugins' demo data are booked when their events are delivered.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import msgspec
from jimu_sdk import JimuError, platform

from jimu_settlement import api, fee_schedules, imports, periods, programmes, runs, split_rules

log = logging.getLogger(__name__)

SCHEDULE = api.ScheduleBody(
    work_order_type="", labour_item="LABOUR-HOUR", hours_field="labour_hours",
    fees=[api.FeeBody(key="callout", name="上门费", amount=Decimal("50.00"))],
    subsidies=[api.SubsidyBody(key="county", name="县域补贴", amount=Decimal("30.00"),
                             to="installer", region_codes=["320500", "131000", "510129"])],
    note="维修与安装：工时按区域工时价，配件按档位价，上门费 50 元；苏州、廊坊、大邑县域补贴 30 元")
RULES = [
    api.RuleBody(code="INST-LABOUR", name="安装服务商工时分成 70%", component="labour",
                 role="installer", value=Decimal(70)),
    api.RuleBody(code="INST-CALLOUT", name="上门费全额归服务商", component="fee:callout",
                 role="installer", value=Decimal(100)),
    api.RuleBody(code="DEALER-PARTS", name="经销商配件分成 10%", component="parts",
                 role="dealer", value=Decimal(10)),
]
NORTH = ["110000", "120000", "130000", "140000", "150000"]
SOUTH = ["440000", "450000", "460000"]
PROGRAMMES = [
    api.ProgrammeBody(
        code="HB-LADDER", name="华北饮料阶梯返利（全量按达档）", kind="ladder_rebate",
        metric="quantity", mode="whole", unit="箱", categories=["饮料"], region_codes=NORTH,
        bands=[api.BandBody(min=Decimal(0), max=Decimal(1000), rate=Decimal(0)),
               api.BandBody(min=Decimal(1000), max=Decimal(5000), rate=Decimal(1)),
               api.BandBody(min=Decimal(5000), rate=Decimal(2))],
        description="月度饮料进货箱数达档后，全部进货额按所达档位比例返利"),
    api.ProgrammeBody(
        code="HN-SHARE", name="华南按订单量分成 3%", kind="volume_share", metric="amount",
        region_codes=SOUTH, share_pct=Decimal(3),
        description="华南经销商按月度订单金额的 3% 分成"),
]
# (partner code, SKU, cases, price per case): the dealers' purchases, one document each.
LAST_MONTH = [
    ("HB-ZD", "TEA-500-CASE", 1800, "47.04"), ("HB-ZD", "TEA-500-CASE", 1600, "47.04"),
    ("HB-ZD", "WATER-550-CASE", 1200, "30.00"), ("HB-ZD", "TEA-500-CASE", 800, "47.04"),
    ("HB-YJ-TJ", "TEA-500-CASE", 420, "49.98"), ("HB-YJ-TJ", "WATER-550-CASE", 260, "31.50"),
    ("HN-ZD", "TEA-500-CASE", 1500, "47.04"), ("HN-ZD", "WATER-550-CASE", 900, "30.00"),
    ("HN-YJ-SZ", "TEA-500-CASE", 380, "49.98"),
]
THIS_MONTH = [
    ("HB-ZD", "TEA-500-CASE", 2600, "47.04"), ("HB-ZD", "WATER-550-CASE", 2080, "30.00"),
    ("HN-ZD", "TEA-500-CASE", 900, "47.04"),
]
TARGETS = [("HB-ZD", "quantity", 6000), ("HB-YJ-TJ", "quantity", 1000),
           ("HN-ZD", "amount", 120000)]


async def _try(what: str, work: Callable[[], Awaitable[Any]]) -> Any:
    try:
        return await work()
    except JimuError as exc:
        log.warning("demo settlement step skipped (%s): %s", what, exc.message)
        return None


def _rows(plan: list[tuple[str, str, int, str]], known: set[str],
          dates: Callable[[int], dt.date]) -> list[dict[str, Any]]:
    return [{"partner": code, "date": dates(number).isoformat(),
             "ref": f"ERP-{dates(number):%Y%m}-{number:03d}", "item": sku,
             "quantity": str(cases), "amount": str(Decimal(price) * cases)}
            for number, (code, sku, cases, price) in enumerate(plan, 1) if code in known]


async def seed(tenant_id: int) -> None:
    await _try("fee schedule", lambda: fee_schedules.save_schedule(
        "", api.schedule_values(SCHEDULE), create=True))
    for rule in RULES:
        await _try(rule.code, lambda rule=rule: split_rules.create_rule(
            msgspec.structs.asdict(rule)))
    for programme in PROGRAMMES:
        await _try(programme.code, lambda programme=programme: programmes.create_programme(
            api.programme_values(programme)))
    partners = {p["code"]: p for p in await platform().list_partners()}
    today = periods.local_today()
    this_month = periods.code_of(today)
    last_month = periods.previous_code(this_month)
    await periods.ensure_period(last_month)
    await periods.ensure_period(this_month)
    for period in (last_month, this_month):
        for code, metric, value in TARGETS:
            if code in partners:
                await _try("target", lambda period=period, code=code, metric=metric,
                           value=value: programmes.set_target(
                               period=period, metric=metric, value=value,
                               partner_id=partners[code]["id"]))
    first_of_last = periods.bounds(last_month)[0]
    known = set(partners)
    batches = (
        # Last month's documents spread over its first four weeks; this month's so far are
        # dated on its first day (an import is never dated in the future).
        ("旧系统上月进货（上线迁移）",
         _rows(LAST_MONTH, known, lambda n: first_of_last + dt.timedelta(days=3 * n))),
        ("旧系统本月进货（上线迁移）", _rows(THIS_MONTH, known, lambda n: today.replace(day=1))))
    for label, rows in batches:
        if rows:
            await _try("import", lambda label=label, rows=rows: imports.import_sales(label, rows))
    # The run works once this seeding is committed, then closes last month.
    await _try("settlement run", lambda: runs.start(last_month, close=True))
