"""Demo data from the seeds: FMCG stores on A/B/C by monthly volume, the hot-pot chain on four
city tiers, dealers by partner level, a service provider unlocking a tier by cooperation."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from jimu_sdk import platform

from jimu_price_tiers import services
from jimu_price_tiers.services import RuleSetIn, VolumeLine

TIERS = [("A", "A 档", 1, "大客户价"), ("B", "B 档", 2, "标准批发价"),
         ("C", "C 档", 3, "零售起步价"),
         ("T1", "一线城市档", 1, "一线城市门店"), ("T2", "二线城市档", 2, "新一线/二线城市门店"),
         ("T3", "三线城市档", 3, "三线城市门店"), ("T4", "县域档", 4, "县城门店，另享设备租赁补贴")]

RULE_SETS = [
    RuleSetIn(code="fmcg-volume", name="快消门店月销量分档", basis="monthly_volume",
              partner_kinds=["store"], partner_codes=["HB-MD-CY", "HN-MD-TH"], priority=20,
              body={"unit": "箱", "bands": [{"min": "0", "max": "1000", "tier": "C"},
                                            {"min": "1000", "max": "5000", "tier": "B"},
                                            {"min": "5000", "max": None, "tier": "A"}]}),
    RuleSetIn(code="hotpot-city", name="蜀香火锅城市分档", basis="city_tier",
              partner_kinds=["store"],
              partner_codes=["HG-SH-XH", "HG-CD-JJ", "HG-MY-FC", "HG-DY-XC"], priority=20,
              body={"groups": [
                  {"name": "一线城市", "region_codes": ["110000", "310000", "440100", "440300"],
                   "tier": "T1"},
                  {"name": "新一线/二线城市",
                   "region_codes": ["510100", "330100", "420100", "320500", "500000"],
                   "tier": "T2"},
                  {"name": "三线城市", "region_codes": ["510700", "511100", "510600"],
                   "tier": "T3"}],
                  "county_tier": "T4", "default": "T4"}),
    RuleSetIn(code="dealer-level", name="经销商按级别分档", basis="partner_level",
              partner_kinds=["dealer"], priority=10,
              body={"general_agent": "A", "level1": "B", "level2": "C", "": "C"}),
    RuleSetIn(code="sp-cooperation", name="服务商合作历史解锁", basis="cooperation",
              partner_kinds=["service_provider"], priority=10,
              body={"thresholds": [{"tier": "A", "min_completed_orders": 20, "min_months": 12},
                                   {"tier": "B", "min_completed_orders": 5, "min_months": 3},
                                   {"tier": "C", "min_completed_orders": 0, "min_months": 0}]}),
]


def _orders(partner_id: int, ref: str, start: dt.datetime, end: dt.datetime, total: int,
            count: int, item: str, category: str, price: Decimal) -> list[VolumeLine]:
    step = (end - start) / count
    each = total // count
    lines = []
    for n in range(count):
        quantity = Decimal(each + (total - each * count if n == count - 1 else 0))
        lines.append(VolumeLine(partner_id=partner_id, order_ref=f"{ref}-{n + 1:03d}",
                                line_no=1, item=item, category=category, quantity=quantity,
                                amount=quantity * price,
                                completed_at=start + step * n + dt.timedelta(hours=3)))
    return lines


async def seed_demo(tenant_id: int) -> None:
    for code, name, rank, description in TIERS:
        await services.create_tier(code=code, name=name, rank=rank, description=description)
    partners = {p["code"]: p["id"] for p in await platform().list_partners()}
    for rule_set in RULE_SETS:
        present = [c for c in rule_set.partner_codes if c in partners]
        if rule_set.partner_codes and not present:
            continue
        rule_set.partner_codes = present
        await services.create_rule_set(rule_set)
    now = platform().now()
    last_start, last_end, _ = services.volume_window(now)
    before_start, _, _ = services.volume_window(last_start)
    water = ("FMCG-WATER-550", "饮料", Decimal("24.00"))
    lines: list[VolumeLine] = []
    if "HB-MD-CY" in partners:
        # The month before last: 3,800 cases (B); last month: 5,120 cases (A).
        lines += _orders(partners["HB-MD-CY"], "CY-M2", before_start, last_start, 3800, 12,
                         *water)
        lines += _orders(partners["HB-MD-CY"], "CY-M1", last_start, last_end, 5120, 16, *water)
    if "HN-MD-TH" in partners:
        lines += _orders(partners["HN-MD-TH"], "TH-M2", before_start, last_start, 260, 4,
                         *water)
        lines += _orders(partners["HN-MD-TH"], "TH-M1", last_start, last_end, 200, 4, *water)
    if "SZ-SP-01" in partners:
        # Seven repair jobs over five months: C at first, B after the fifth.
        for n, days in enumerate((150, 120, 60, 40, 20, 10, 5), start=1):
            lines.append(VolumeLine(
                partner_id=partners["SZ-SP-01"], order_ref=f"SP-{n:03d}", line_no=1,
                item="SVC-REPAIR", category="维修服务", quantity=Decimal(1),
                amount=Decimal("680.00"), completed_at=now - dt.timedelta(days=days)))
    await services.record_volumes(lines)
    # History for the partners whose tier moved: evaluated as of 100 days ago and as of the
    # start of last month; then every partner now.
    moving = [partners[c] for c in ("HB-MD-CY", "SZ-SP-01") if c in partners]
    if moving:
        await services.evaluate(moving, as_of=now - dt.timedelta(days=100))
        await services.evaluate(moving, as_of=last_start + dt.timedelta(days=1))
    await services.evaluate()
