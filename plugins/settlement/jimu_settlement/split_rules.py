"""Split rules (分成规则) and the revenue split steps settlement adds to the pricing hook.

Two steps, for documents of kind ``work_order``:

- ``subsidies`` (order 50): a subsidy line of the fee schedule (amount zero) moves its
  subsidy from the enterprise to the party it is for;
- ``split-rules`` (order 100): each enabled rule whose scope covers the work order (type,
  region, the receiving partner's kind) gives its party a percentage of the matching lines,
  or a fixed amount per line.

Rules are checked when saved: no rule gives more than 100% of a line, and the percentages of
rules that can meet on the same lines never add up to more than 100%.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from jimu_sdk import (
    N_,
    Conflict,
    NotFound,
    RevenueSplitStep,
    SplitAdjustment,
    SplitContext,
    SplitMove,
    ValidationFailed,
    platform,
)

from jimu_settlement.ledger import decimal
from jimu_settlement.tables import SplitRule

CACHE = "settlement.split_rules"
ROLES = ("installer", "dealer")
ROLE_TITLES = {"installer": "安装/服务商", "dealer": "经销商", "enterprise": "企业"}
COMPONENTS = ("labour", "parts", "fee")
COMPONENT_TITLES = {"labour": "工时费", "parts": "配件", "fee": "费用", "subsidy": "补贴"}
BASES = ("percent", "fixed")
HUNDRED = Decimal(100)


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")


def check_component(component: str) -> str:
    if component in COMPONENTS or (component.startswith("fee:") and len(component) > 4):
        return component
    raise ValidationFailed(N_("component is labour, parts, fee (every fee) or fee:<key> (one "
                              "fee of the fee schedule)"), field="component")


def _overlap(a: Sequence[str], b: Sequence[str]) -> bool:
    return not a or not b or bool(set(a) & set(b))


def _regions_overlap(a: Sequence[str], b: Sequence[str]) -> bool:
    if not a or not b:
        return True
    return any(x.startswith(y.rstrip("0")) or y.startswith(x.rstrip("0"))
               for x in a for y in b)


def _components_meet(a: str, b: str) -> bool:
    return a == b or ({a.split(":")[0], b.split(":")[0]} == {"fee"} and (
        ":" not in a or ":" not in b))


async def validate(data: Mapping[str, Any], *, existing: str | None) -> dict[str, Any]:
    values = dict(data)
    values["component"] = check_component(values["component"])
    if values["role"] not in ROLES:
        raise ValidationFailed(N_("role is installer or dealer"), field="role")
    if values["basis"] not in BASES:
        raise ValidationFailed(N_("basis is percent or fixed"), field="basis")
    value = decimal(values["value"], "value")
    if values["basis"] == "percent" and not Decimal(0) <= value <= HUNDRED:
        raise ValidationFailed(N_("a share is between 0%% and 100%%, not %(value)s%%"),
                               field="value", params={"value": _plain(value)})
    if values["basis"] == "fixed" and (value.quantize(Decimal("0.01")) != value
                                       or abs(value) >= 10**9):
        raise ValidationFailed(N_("a fixed amount is in yuan and fen (two decimal places)"),
                               field="value")
    values["value"] = value
    for region in values.get("region_codes", []):
        if not platform().region_path(region):
            raise ValidationFailed(N_("%(code)s is not a known region code"),
                                   field="region_codes", params={"code": region})
    if values["basis"] == "percent" and values.get("enabled", True):
        others = await SplitRule.scoped_select().where(
            (SplitRule.enabled == True) & (SplitRule.basis == "percent"))  # noqa: E712
        meeting = [r for r in others if r["code"] != (existing or values["code"])
                   and _components_meet(r["component"], values["component"])
                   and _overlap(r["work_order_types"], values.get("work_order_types", []))
                   and _regions_overlap(r["region_codes"], values.get("region_codes", []))]
        total = value + sum((Decimal(r["value"]) for r in meeting), Decimal(0))
        if total > HUNDRED:
            raise ValidationFailed(
                N_("the shares of %(component)s would add up to %(total)s%% with rules "
                   "%(rules)s, more than 100%%"), field="value",
                params={"component": values["component"], "total": _plain(total),
                        "rules": ", ".join(r["code"] for r in meeting)})
    return values


def _out(row: Mapping[str, Any]) -> dict[str, Any]:
    return {**row, "value": Decimal(row["value"])}


async def list_rules() -> list[dict[str, Any]]:
    return [_out(r) for r in await SplitRule.scoped_select().order_by(SplitRule.code)]


async def get_rule(code: str) -> dict[str, Any]:
    row = await SplitRule.scoped_select().where(SplitRule.code == code).first()
    if row is None:
        raise NotFound(N_("there is no split rule %(code)s"), params={"code": code})
    return _out(row)


async def create_rule(data: Mapping[str, Any]) -> dict[str, Any]:
    if await SplitRule.scoped_count().where(SplitRule.code == data["code"]):
        raise Conflict(N_("a split rule %(code)s exists already"), field="code",
                       params={"code": data["code"]})
    values = await validate(data, existing=None)
    now = platform().now()
    row = await SplitRule.scoped_insert(**values, created_at=now, updated_at=now)
    await platform().audit("settlement.split_rule.create", f"settlement_split_rule:{row['code']}",
                           None, _audit(row))
    await platform().invalidate(CACHE)
    return _out(row)


async def update_rule(code: str, data: Mapping[str, Any]) -> dict[str, Any]:
    before = await get_rule(code)
    values = await validate({**data, "code": code}, existing=code)
    values.pop("code", None)
    await SplitRule.scoped_update({getattr(SplitRule, k): v for k, v in values.items()}
                                  | {SplitRule.updated_at: platform().now()}).where(
        SplitRule.code == code)
    after = await get_rule(code)
    await platform().audit("settlement.split_rule.update", f"settlement_split_rule:{code}",
                           _audit(before), _audit(after))
    await platform().invalidate(CACHE)
    return after


async def delete_rule(code: str) -> None:
    before = await get_rule(code)
    await SplitRule.scoped_delete().where(SplitRule.code == code)
    await platform().audit("settlement.split_rule.delete", f"settlement_split_rule:{code}",
                           _audit(before), None)
    await platform().invalidate(CACHE)


def _audit(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in row.items()
            if k not in ("id", "tenant_id", "created_at", "updated_at")}


# ----------------------------------------------------------------------------- split steps


def _covers(rule: Mapping[str, Any], context: SplitContext) -> bool:
    facts = context.facts
    types = rule["work_order_types"]
    if types and facts.get("work_order.type") not in types:
        return False
    regions = rule["region_codes"]
    if regions and not set(regions) & set(facts.get("region.path", ())):
        return False
    kinds = rule["partner_kinds"]
    return not kinds or facts.get(f"{rule['role']}.kind") in kinds


def _line_matches(component: str, line_component: str, line_key: str) -> bool:
    if component.startswith("fee:"):
        return line_key == component
    return component == line_component


def subsidies(context: SplitContext, shares: Mapping[str, Any]) -> list[SplitAdjustment] | None:
    if context.kind != "work_order":
        return None
    out = []
    for line in context.lines:
        subsidy = line.facts.get("settlement.subsidy")
        if line.component != "subsidy" or not subsidy or subsidy["to"] not in context.parties:
            continue
        amount = Decimal(subsidy["amount"])
        out.append(SplitAdjustment(
            (SplitMove(line.key, subsidy["to"], amount),),
            f"{line.title}：企业向{ROLE_TITLES[subsidy['to']]}支付 {amount:.2f}",
            rule=f"subsidy:{line.key.split(':', 1)[-1]}",
            facts={"region.code": context.facts.get("region.code")}))
    return out or None


async def _load() -> list[dict[str, Any]]:
    rows = await SplitRule.scoped_select().where(SplitRule.enabled == True).order_by(  # noqa: E712
        SplitRule.code)
    return [_out(r) for r in rows]


async def prepare_rules(contexts: Sequence[SplitContext]) -> Any:
    if not any(c.kind == "work_order" for c in contexts):
        return None
    rules = await platform().cached(CACHE, _load)
    if not rules:
        return None

    def apply(context: SplitContext, shares: Mapping[str, Any]) -> list[SplitAdjustment] | None:
        if context.kind != "work_order":
            return None
        out = []
        for rule in rules:
            if rule["role"] not in context.parties or not _covers(rule, context):
                continue
            value: Decimal = rule["value"]
            moves = []
            for line in context.lines:
                if line.component == "subsidy" or not _line_matches(
                        rule["component"], line.component, line.key):
                    continue
                amount = (line.amount.amount * value / HUNDRED if rule["basis"] == "percent"
                          else value)
                moves.append(SplitMove(line.key, rule["role"], amount))
            if moves:
                what = COMPONENT_TITLES.get(rule["component"].split(":")[0],
                                            rule["component"])
                how = (f"× {_plain(value)}%" if rule["basis"] == "percent"
                       else f"每行 {value:.2f}")
                out.append(SplitAdjustment(
                    tuple(moves), f"{rule['name']}：{what} {how} → {ROLE_TITLES[rule['role']]}",
                    rule=rule["code"], facts={
                        "work_order.type": context.facts.get("work_order.type"),
                        f"{rule['role']}.kind": context.facts.get(f"{rule['role']}.kind")}))
        return out or None

    return apply


STEPS = [RevenueSplitStep(rule="subsidies", order=50, apply=subsidies),
         RevenueSplitStep(rule="split-rules", order=100, prepare=prepare_rules)]
