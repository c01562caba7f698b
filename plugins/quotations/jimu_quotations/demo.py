"""Demo data: regional quotations for the North and South China dealers, a 4S package
quotation for the Pudong store, an accepted quotation with its order, and completed orders of
two stores (the seeds: 30 秒生成针对某区域代理商的专属报价单)."""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

from jimu_sdk import JimuError, platform

from jimu_quotations import services

log = logging.getLogger(__name__)

D = Decimal
DRINKS = [("TEA-500-CASE", D(120)), ("WATER-550-CASE", D(50))]


async def _quotation(partner: dict[str, Any] | None, region: str, lines: list[tuple[str, Decimal]],
                     note: str, send: bool = True) -> dict[str, Any] | None:
    if partner is None:
        return None
    header = services.Header(partner_id=partner["id"], region_code=region, note=note)
    wanted = [services.LineIn(item=sku, quantity=qty) for sku, qty in lines]
    try:
        await services.preview(header, wanted)  # price first: skip what cannot be priced
        row = await services.create_quotation(header, wanted)
        if send:
            row = await services.send_quotation(row["id"])
        return row
    except JimuError as exc:
        log.warning("demo quotation for %s skipped: %s", partner["code"], exc.message)
        return None


async def _completed_order(partner: dict[str, Any] | None, lines: list[tuple[str, Decimal]]
                           ) -> None:
    if partner is None:
        return
    header = services.Header(partner_id=partner["id"], region_code=partner["region_code"])
    wanted = [services.LineIn(item=sku, quantity=qty) for sku, qty in lines]
    try:
        await services.preview(header, wanted)
        order = await services.create_order(header, wanted)
        await services.complete_order(order["id"])
    except JimuError as exc:
        log.warning("demo order for %s skipped: %s", partner["code"], exc.message)


async def seed(tenant_id: int) -> None:
    partners = {p["code"]: dict(p) for p in await platform().list_partners()}
    await _quotation(partners.get("HB-ZD"), "110105", DRINKS,
                     "华北区域专属报价：冰红茶与矿泉水整箱供货")
    await _quotation(partners.get("HN-ZD"), "440106", DRINKS,
                     "华南区域专属报价：冰红茶与矿泉水整箱供货（含区域价差）")
    await _quotation(partners.get("SH-PD-01"), "310115", [("PKG-4S-BASIC", D(1))],
                     "4S 基础保养套餐：机滤、4L 机油与 0.5 小时工时", send=False)
    accepted = await _quotation(partners.get("HB-ZD"), "110105", [("TEA-500-CASE", D(200))],
                                "春季备货")
    if accepted is not None:
        try:
            await services.accept_quotation(accepted["id"])
        except JimuError as exc:
            log.warning("demo acceptance skipped: %s", exc.message)
    await _completed_order(partners.get("HB-MD-CY"),
                           [("TEA-500-CASE", D(300)), ("WATER-550-CASE", D(120))])
    await _completed_order(partners.get("HB-MD-CY"), [("TEA-500-CASE", D(280))])
    await _completed_order(partners.get("HN-MD-TH"), [("TEA-500-CASE", D(20))])
    await _completed_order(partners.get("HN-MD-TH"), [("WATER-550-CASE", D(15))])
