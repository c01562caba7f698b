"""The twelve factor kinds this plugin brings, contributed through ``register_price_factor_kinds``
exactly as another plugin would add its own.

Every kind works on the line's running total (``previous``); per-unit amounts are multiplied by
the line's quantity. Reductions (promotions, allowances, subsidies) never take the price below
zero; the minimum-price floor (order 800) then lifts it back to the floor when one is on.

Bounds of ``Decimal`` parameters are JSON-schema keywords in ``msgspec.Meta``
(``extra_json_schema={"minimum": 0, "maximum": 100}``) because msgspec bounds only ints and
floats; the plugin checks them when a factor is saved (``services.validate_params``), and a
third-party kind may use the same keywords.
"""

from __future__ import annotations

import functools
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_HALF_UP, ROUND_UP, Decimal
from typing import Annotated, Any, Literal

import msgspec
from jimu_sdk import N_, Money, PriceAdjustment, PriceContext, PriceFactorKind, localized
from jimu_sdk.types import MINOR_UNITS

HUNDRED = Decimal(100)
ZERO = Decimal(0)

FLOOR_TOTAL_FACT = "price_factors.floor_total"
"""Set by the factor step for the kinds after a floor applied: the line's floor (a Decimal)."""


def _bounded(title: str, *, minimum: int | None = None, maximum: int | None = None,
             exclusive_minimum: int | None = None, description: str = "") -> msgspec.Meta:
    schema: dict[str, Any] = {}
    if minimum is not None:
        schema["minimum"] = minimum
    if maximum is not None:
        schema["maximum"] = maximum
    if exclusive_minimum is not None:
        schema["exclusiveMinimum"] = exclusive_minimum
    return msgspec.Meta(title=title, description=description or None,
                        extra_json_schema=schema or None)


Percent = Annotated[Decimal, _bounded(N_("Percent"), minimum=0, maximum=100)]
Amount = Annotated[Decimal, _bounded(N_("Amount per unit"), minimum=0)]
Codes = Annotated[list[str], msgspec.Meta(max_length=500)]


# --------------------------------------------------------------------------- small helpers


@functools.cache
def minor_unit(currency: str) -> Decimal:
    return Decimal(1).scaleb(-MINOR_UNITS.get(currency, 2))


def shown(amount: Decimal) -> str:
    """An amount as a reason shows it: two decimals (``8.00``)."""
    return str(amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


@functools.lru_cache(maxsize=1024)
def pct(value: Decimal) -> str:
    """``13`` → ``13``, ``7.50`` → ``7.5`` (no exponent)."""
    return format(value.normalize(), "f")


def per_unit(context: PriceContext) -> str:
    return "/" + str(context.facts.get("price_lists.unit") or "件")


def _reduced(context: PriceContext, previous: Money, total: Decimal, reason: str,
             facts: dict[str, Any] | None = None) -> PriceAdjustment | None:
    total = max(total, ZERO)
    if total == previous.amount:
        return None
    return PriceAdjustment(total=Money(total, previous.currency), reason=reason,
                           facts=facts or {})


def _listed(context: PriceContext, items: list[str], categories: list[str]) -> bool:
    """No list: every item; otherwise the item or its category must be listed."""
    if not items and not categories:
        return True
    return context.item in items or context.facts.get("price_lists.category") in categories


def _amount_or_percent(context: PriceContext, previous: Money, amount: Decimal,
                       percent: Decimal, label: str) -> PriceAdjustment | None:
    total = previous.amount
    parts = []
    if percent:
        total -= previous.amount * percent / HUNDRED
        parts.append(f"−{pct(percent)}%")
    if amount:
        total -= amount * context.quantity
        parts.append(f"−{shown(amount)}{per_unit(context)}")
    return _reduced(context, previous, total, f"{label} {' '.join(parts)}")


# --------------------------------------------------------------------------- 310 promotion


class PromotionParams(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    percent_off: Annotated[Decimal, _bounded(N_("Percent off"), minimum=0, maximum=100)] = ZERO
    amount_off: Annotated[Decimal, _bounded(N_("Amount off per unit"), minimum=0)] = ZERO
    items: Codes = []
    categories: Codes = []


def promotion(context: PriceContext, previous: Money,
              params: PromotionParams) -> PriceAdjustment | None:
    if not _listed(context, params.items, params.categories):
        return None
    return _amount_or_percent(context, previous, params.amount_off, params.percent_off, "促销")


# --------------------------------------------------------------------------- 320 volume


class VolumeBand(msgspec.Struct, forbid_unknown_fields=True):
    min_quantity: Annotated[Decimal, _bounded(N_("From quantity"), exclusive_minimum=0)]
    percent: Percent


class VolumeDiscountParams(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    bands: Annotated[list[VolumeBand], msgspec.Meta(
        min_length=1, max_length=50, title=N_("Quantity bands"),
        description=N_("From this quantity on, this percent off (the highest band reached)."))]

    def __post_init__(self) -> None:
        seen = set()
        for band in self.bands:
            if band.min_quantity in seen:
                raise ValueError(f"two bands start at quantity {band.min_quantity} - at `$.bands`")
            seen.add(band.min_quantity)


def volume_discount(context: PriceContext, previous: Money,
                    params: VolumeDiscountParams) -> PriceAdjustment | None:
    reached = [b for b in params.bands if context.quantity >= b.min_quantity]
    if not reached:
        return None
    band = max(reached, key=lambda b: b.min_quantity)
    return _reduced(context, previous, previous.amount * (HUNDRED - band.percent) / HUNDRED,
                    f"批量折扣 ≥{pct(band.min_quantity)} −{pct(band.percent)}%",
                    {"quantity": str(context.quantity)})


# --------------------------------------------------------------------------- 330 partner level

LEVEL_TITLES = {"general_agent": "总代", "level1": "一级", "level2": "二级"}


class PartnerLevelParams(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    general_agent: Annotated[Decimal, _bounded(N_("General agent (总代) percent off"),
                                               minimum=0, maximum=100)] = ZERO
    level1: Annotated[Decimal, _bounded(N_("Level 1 (一级) percent off"),
                                        minimum=0, maximum=100)] = ZERO
    level2: Annotated[Decimal, _bounded(N_("Level 2 (二级) percent off"),
                                        minimum=0, maximum=100)] = ZERO


def partner_level_discount(context: PriceContext, previous: Money,
                           params: PartnerLevelParams) -> PriceAdjustment | None:
    level = context.facts.get("partner.level")
    percent = getattr(params, level, ZERO) if level in LEVEL_TITLES else ZERO
    if not percent:
        return None
    return _reduced(context, previous, previous.amount * (HUNDRED - percent) / HUNDRED,
                    f"{LEVEL_TITLES[level]}折扣 −{pct(percent)}%", {"partner.level": level})


# --------------------------------------------------------------------------- 340 seasonal


class SeasonalParams(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    percent: Annotated[Decimal, _bounded(N_("Percent up (+) or down (−)"),
                                         minimum=-100, maximum=100)]


def seasonal(context: PriceContext, previous: Money,
             params: SeasonalParams) -> PriceAdjustment | None:
    if not params.percent:
        return None
    sign = "+" if params.percent > 0 else "−"
    return _reduced(context, previous, previous.amount * (HUNDRED + params.percent) / HUNDRED,
                    f"季节调价 {sign}{pct(abs(params.percent))}%")


# --------------------------------------------------------------------------- 410 trade-in


class TradeInParams(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    allowance_per_unit: Annotated[Decimal, _bounded(N_("Allowance per unit"), minimum=0)]
    items: Codes = []


def trade_in(context: PriceContext, previous: Money,
             params: TradeInParams) -> PriceAdjustment | None:
    if params.items and context.item not in params.items:
        return None
    return _reduced(context, previous,
                    previous.amount - params.allowance_per_unit * context.quantity,
                    f"以旧换新 −{shown(params.allowance_per_unit)}{per_unit(context)}")


# --------------------------------------------------------------------------- 420/430 subsidies


class SubsidyParams(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    amount_per_unit: Amount = ZERO
    percent: Percent = ZERO


def logistics_subsidy(context: PriceContext, previous: Money,
                      params: SubsidyParams) -> PriceAdjustment | None:
    return _amount_or_percent(context, previous, params.amount_per_unit, params.percent,
                              "物流补贴")


def equipment_rental_subsidy(context: PriceContext, previous: Money,
                             params: SubsidyParams) -> PriceAdjustment | None:
    return _amount_or_percent(context, previous, params.amount_per_unit, params.percent,
                              "设备租赁补贴")


# --------------------------------------------------------------------------- 440 government


class GovernmentSubsidyParams(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    percent: Percent
    cap_per_unit: Annotated[Decimal | None, _bounded(N_("Cap per unit"), minimum=0)] = None


def government_subsidy(context: PriceContext, previous: Money,
                       params: GovernmentSubsidyParams) -> PriceAdjustment | None:
    unit = previous.amount / context.quantity
    subsidy = unit * params.percent / HUNDRED
    reason = f"政府补贴 −{pct(params.percent)}%"
    if params.cap_per_unit is not None and subsidy > params.cap_per_unit:
        subsidy = params.cap_per_unit
        reason += f"（封顶 {shown(params.cap_per_unit)}{per_unit(context)}）"
    return _reduced(context, previous, previous.amount - subsidy * context.quantity, reason)


# --------------------------------------------------------------------------- 510 duty


class DutyParams(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    rate_percent: Annotated[Decimal, _bounded(N_("Duty rate percent"), minimum=0,
                                              maximum=1000)]


def cross_border_duty(context: PriceContext, previous: Money,
                      params: DutyParams) -> PriceAdjustment | None:
    if not params.rate_percent:
        return None
    total = previous.amount * (HUNDRED + params.rate_percent) / HUNDRED
    return PriceAdjustment(total=Money(total, previous.currency),
                           reason=f"跨境关税 +{pct(params.rate_percent)}%",
                           facts={"channel": context.facts.get("channel", "")})


# --------------------------------------------------------------------------- 800 floor


class FloorParams(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    fixed_per_unit: Annotated[Decimal, _bounded(N_("Fixed floor per unit"), minimum=0)] = ZERO
    min_markup_percent: Annotated[Decimal | None, _bounded(
        N_("Minimum markup on cost, percent"), minimum=0, maximum=1000,
        description=N_("Used when the item has a cost (price_lists.cost)."))] = None


def floor_total(context: PriceContext, params: FloorParams, currency: str
                ) -> tuple[Decimal, Decimal, dict[str, Any]]:
    """The floor per unit and for the line, both rounded UP to the currency's minor unit, so
    core's final half-up rounding can never take the price under it."""
    unit = params.fixed_per_unit
    facts: dict[str, Any] = {}
    cost = context.facts.get("price_lists.cost")
    if cost is not None and params.min_markup_percent is not None:
        cost = Decimal(str(cost))
        facts["price_lists.cost"] = str(cost)
        unit = max(unit, cost * (HUNDRED + params.min_markup_percent) / HUNDRED)
    minor = minor_unit(currency)
    unit = unit.quantize(minor, rounding=ROUND_CEILING)
    return unit, (unit * context.quantity).quantize(minor, rounding=ROUND_CEILING), facts


def minimum_price_floor(context: PriceContext, previous: Money,
                        params: FloorParams) -> PriceAdjustment | None:
    unit, total, facts = floor_total(context, params, previous.currency)
    if previous.amount >= total:
        return None
    return PriceAdjustment(total=Money(total, previous.currency),
                           reason=f"最低价 {shown(unit)}{per_unit(context)}", facts=facts)


# --------------------------------------------------------------------------- 850 rounding

ROUNDING_MODES = {"half_up": ROUND_HALF_UP, "down": ROUND_DOWN, "up": ROUND_UP}
MODE_LABELS = (N_("half_up"), N_("down"), N_("up"))
"""Message ids of the modes, as the generated form shows them."""
MODE_TITLES = {"half_up": "四舍五入", "down": "向下", "up": "向上"}


class RoundingParams(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    step: Annotated[Decimal, _bounded(N_("Round the unit price to a multiple of"),
                                      exclusive_minimum=0)] = Decimal(1)
    mode: Annotated[Literal["half_up", "down", "up"],
                    msgspec.Meta(title=N_("Rounding mode"))] = "half_up"


def rounding(context: PriceContext, previous: Money,
             params: RoundingParams) -> PriceAdjustment | None:
    unit = previous.amount / context.quantity
    steps = (unit / params.step).quantize(Decimal(1), rounding=ROUNDING_MODES[params.mode])
    rounded_unit = steps * params.step
    total = rounded_unit * context.quantity
    floor = context.facts.get(FLOOR_TOTAL_FACT)
    reason = f"单价取整到 {pct(params.step)}（{MODE_TITLES[params.mode]}）"
    if floor is not None and total < floor:
        # Rounding never undoes the floor: round up to the next step instead.
        steps = (unit / params.step).quantize(Decimal(1), rounding=ROUND_CEILING)
        total = max(steps * params.step * context.quantity, floor)
        reason += "，不低于最低价"
    if total == previous.amount:
        return None
    return PriceAdjustment(total=Money(total, previous.currency), reason=reason)


# --------------------------------------------------------------------------- 900 tax


class TaxParams(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    rate_percent: Annotated[Decimal, _bounded(N_("VAT rate percent"), minimum=0, maximum=100)] = (
        Decimal(13))
    use_item_rate: Annotated[bool, msgspec.Meta(
        title=N_("Use the item's own rate when it has one (price_lists.tax_rate)"))] = False


def item_tax_percent(value: Any) -> Decimal | None:
    """``price_lists.tax_rate`` as a percent: a fraction (0.13) or a percent (13) are both
    read as 13%."""
    if value is None or value == "":
        return None
    rate = Decimal(str(value))
    return rate * HUNDRED if rate <= 1 else rate


def tax(context: PriceContext, previous: Money, params: TaxParams) -> PriceAdjustment | None:
    percent = params.rate_percent
    facts: dict[str, Any] = {}
    if params.use_item_rate:
        item_rate = item_tax_percent(context.facts.get("price_lists.tax_rate"))
        if item_rate is not None:
            percent = item_rate
            facts["price_lists.tax_rate"] = str(context.facts.get("price_lists.tax_rate"))
    if not percent:
        return None
    rate, reason = _tax_rate(percent)
    amount = (previous.amount * rate).quantize(minor_unit(previous.currency), ROUND_HALF_UP)
    return PriceAdjustment(Money(previous.amount + amount, previous.currency), reason, "",
                           facts, (), "tax")


@functools.lru_cache(maxsize=256)
def _tax_rate(percent: Decimal) -> tuple[Decimal, str]:
    """The rate as a fraction, and its reason (the same few rates on every line)."""
    return percent / HUNDRED, f"增值税 {pct(percent)}%"


# --------------------------------------------------------------------------- the list

BUILTIN_KINDS: tuple[PriceFactorKind, ...] = (
    PriceFactorKind(
        key="promotion", title=localized("促销活动", "Promotion"), order=310,
        params=PromotionParams, apply=promotion,
        description=localized("按比例或每件减价，可限定商品或品类。",
                              "Percent off or an amount off per unit, optionally only for "
                              "listed items or categories.")),
    PriceFactorKind(
        key="volume_discount", title=localized("批量折扣", "Volume discount"), order=320,
        params=VolumeDiscountParams, apply=volume_discount,
        description=localized("按订货数量分档打折（取达到的最高档）。",
                              "Percent off by quantity band (the highest band reached).")),
    PriceFactorKind(
        key="partner_level_discount", title=localized("渠道级别折扣", "Partner-level discount"),
        order=330, params=PartnerLevelParams, apply=partner_level_discount,
        description=localized("总代、一级、二级各自的折扣。",
                              "A percent off for general agents, level 1 and level 2 "
                              "partners.")),
    PriceFactorKind(
        key="seasonal", title=localized("季节调价", "Seasonal adjustment"), order=340,
        params=SeasonalParams, apply=seasonal,
        description=localized("旺季上调、淡季下调一个百分比。",
                              "Raise or lower the price by a percent for a season.")),
    PriceFactorKind(
        key="trade_in", title=localized("以旧换新", "Trade-in allowance"), order=410,
        params=TradeInParams, apply=trade_in,
        description=localized("交旧机每件抵扣固定金额。",
                              "A fixed allowance per unit when an old unit is traded in.")),
    PriceFactorKind(
        key="logistics_subsidy", title=localized("物流补贴", "Logistics subsidy"), order=420,
        params=SubsidyParams, apply=logistics_subsidy,
        description=localized("每件补贴金额或按比例补贴运费。",
                              "An amount per unit or a percent towards freight.")),
    PriceFactorKind(
        key="equipment_rental_subsidy", title=localized("设备租赁补贴", "Equipment-rental subsidy"),
        order=430, params=SubsidyParams, apply=equipment_rental_subsidy,
        description=localized("县城门店等的设备租赁补贴：每件金额或比例。",
                              "Equipment rental support (e.g. county stores): an amount per "
                              "unit or a percent.")),
    PriceFactorKind(
        key="government_subsidy", title=localized("政府补贴", "Government subsidy"), order=440,
        params=GovernmentSubsidyParams, apply=government_subsidy,
        description=localized("按比例补贴，每件封顶（如 15%，最高 2000 元）。",
                              "A percent of the price with a cap per unit (e.g. 15%, at most "
                              "2000.00).")),
    PriceFactorKind(
        key="cross_border_duty", title=localized("跨境关税", "Cross-border duty"), order=510,
        params=DutyParams, apply=cross_border_duty,
        description=localized("在当前价格上加征关税。",
                              "A duty rate on the running price (e.g. the cross_border "
                              "channel).")),
    PriceFactorKind(
        key="minimum_price_floor", title=localized("最低价保护", "Minimum-price floor"),
        order=800, params=FloorParams, apply=minimum_price_floor,
        description=localized("价格不低于固定底价或成本加最低加价率，以高者为准。",
                              "The price never goes below max(fixed floor, cost × (1 + "
                              "minimum markup)).")),
    PriceFactorKind(
        key="rounding", title=localized("价格取整", "Rounding"), order=850,
        params=RoundingParams, apply=rounding,
        description=localized("把单价取整到 0.5、1 等步长。",
                              "Round the unit price to a step such as 0.5 or 1.")),
    PriceFactorKind(
        key="tax", title=localized("税费", "Tax"), order=900, params=TaxParams, apply=tax,
        description=localized("增值税，默认 13%，可用商品自身税率；单独列示。",
                              "VAT on the running price (13% unless set), optionally the "
                              "item's own rate; reported apart from the net price.")),
)
