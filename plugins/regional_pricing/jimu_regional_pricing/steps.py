"""The two price steps: ``labour-rate`` (order 50) and ``regional-adjustment`` (order 200).

Both read the facts :func:`services.facts_for` gave each line; ``prepare`` loads the (cached)
snapshot once per pricing call for the names shown in reasons, so ``apply`` stays free of the
database.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from jimu_sdk import (
    Money,
    PriceAdjustment,
    PriceContext,
    PricePass,
    PriceStep,
    RuleConsidered,
    localized,
)
from jimu_sdk.types import StepApply

from jimu_regional_pricing import services

LABOUR = "labour-rate"
ADJUST = "regional-adjustment"
CENT = Decimal("0.01")


async def _namer(contexts: Sequence[PriceContext]):
    snapshot = await services.load_snapshot()
    names: dict[str, str] = {}

    def name(code: str | None) -> str:
        if not code:
            return ""
        if code not in names:
            names[code] = services.target_name(snapshot, code)
        return names[code]

    return name


def _where(context: PriceContext) -> str:
    return str(context.facts.get("region.code") or "")


def _pct(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return f"+{text}%" if value > 0 else f"{text}%"


async def prepare_labour(contexts: Sequence[PriceContext]) -> StepApply | None:
    if not any(c.explain or c.facts.get("price_lists.kind") == "labour" for c in contexts):
        return None  # no labour line, nothing to explain: the step sits this call out
    name = await _namer(contexts)

    def apply(context: PriceContext, previous: Money) -> Any:
        facts = context.facts
        kind = facts.get("price_lists.kind")
        if kind != "labour":
            if context.explain and kind is None:
                return PricePass(considered=(RuleConsidered(
                    LABOUR, "item kind unknown (no item plugin answered price_lists.kind): "
                            "not treated as labour"),))
            return None
        rate = facts.get("regional_pricing.labour_rate")
        region = _where(context)
        if rate is None:
            if not context.explain:
                return None
            where = f"{region} or its parents" if region else "this line (no region given)"
            return PricePass(considered=(RuleConsidered(
                LABOUR, f"no labour rate set for {where}"),))
        source = facts.get("regional_pricing.labour_rate_from")
        label = name(region) if region else name(source)
        reason = f"{label} 工时费 {Decimal(rate).quantize(CENT)}/h"
        if source and source != region:
            reason += f"（取自 {name(source)} {source}）"
        return PriceAdjustment(
            total=Money(Decimal(rate) * context.quantity, previous.currency), reason=reason,
            facts={"region.code": region or None, "labour_rate_from": source,
                   "labour_rate": Decimal(rate)})

    return apply


async def prepare_adjustment(contexts: Sequence[PriceContext]) -> StepApply:
    name = await _namer(contexts)

    def apply(context: PriceContext, previous: Money) -> Any:
        facts = context.facts
        pct = facts.get("regional_pricing.adjust_pct")
        source = facts.get("regional_pricing.adjust_pct_from")
        region = facts.get("region.code") or None
        zones = facts.get("regional_pricing.zones") or ()
        key = (pct, source, region, zones if zones.__class__ is tuple else tuple(zones))
        known = seen.get(key)
        if known is None:
            # The lines of one call mostly share a region: the factor, reason and facts are
            # worked out once per call, not per line (trace facts are read, never changed).
            known = seen[key] = _adjustment(pct, source, region, zones)
        if known is False or facts.get("price_lists.kind") == "labour":
            return _no_adjustment(context, pct, source)
        factor, reason, used = known
        return PriceAdjustment(total=Money(previous.amount * factor, previous.currency),
                               reason=reason, facts=used)

    def _adjustment(pct: Any, source: str | None, region: str | None, zones: Any) -> Any:
        if pct is None or Decimal(pct) == 0:
            return False  # none here (None would mean "not worked out yet")
        pct = Decimal(pct)
        return (1 + pct / 100, f"{name(source)}（{source}）区域调价 {_pct(pct)}",
                {"region.code": region, "adjust_pct": pct, "adjust_pct_from": source,
                 "zones": list(zones)})

    def _no_adjustment(context: PriceContext, pct: Any, source: str | None) -> Any:
        if not context.explain:
            return None
        if context.facts.get("price_lists.kind") == "labour":
            return PricePass(considered=(RuleConsidered(
                ADJUST, "labour lines take the region's labour rate, not its price "
                        "adjustment"),))
        region = _where(context) or "this line"
        why = (f"no price adjustment set for {region}, its parents or its zones"
               if pct is None else f"price adjustment of {name(source)} ({source}) is 0%")
        return PricePass(considered=(RuleConsidered(ADJUST, why),))

    seen: dict[tuple[Any, ...], Any] = {}
    return apply


STEPS = [
    PriceStep(rule=LABOUR, order=50, prepare=prepare_labour,
              title=localized("区域工时费", "Regional labour rate")),
    PriceStep(rule=ADJUST, order=200, prepare=prepare_adjustment,
              title=localized("区域调价", "Regional price adjustment")),
]
