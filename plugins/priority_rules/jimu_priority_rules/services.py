"""Rules and their evaluation. A new work order's facts are checked against every enabled rule
in order; each rule that holds notifies its people, and the highest priority among them is
set on the work order — in the transaction that created it, so it is urgent at once."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from jimu_sdk import N_, NotFound, ValidationFailed, localized, platform
from jimu_sdk.conditions import Condition, ConditionError
from jimu_work_orders import public as work_orders

from jimu_priority_rules.tables import Rule

PRIORITIES = ("low", "normal", "high", "urgent")
RAISES_TO = ("high", "urgent")
MAX_RULES = 100
KINDS = {"amount": "money"}  # the facts conditions compare exactly
MONEY = re.compile(r"^-?\d{1,12}(\.\d{1,2})?$")


def rank(priority: str) -> int:
    return PRIORITIES.index(priority) if priority in PRIORITIES else 1


def _names(values: Any, field: str, limit: int = 20) -> list[str]:
    if not isinstance(values, list) or len(values) > limit:
        raise ValidationFailed(N_("%(field)s is a list of at most %(limit)s names"),
                               field=field, params={"field": field, "limit": limit})
    cleaned = []
    for value in values:
        if not isinstance(value, str) or not value.strip() or len(value) > 100:
            raise ValidationFailed(N_("%(field)s holds names of 1 to 100 characters"),
                                   field=field, params={"field": field})
        cleaned.append(value.strip())
    return cleaned


async def check(data: Mapping[str, Any], *, rule_id: int | None = None) -> dict[str, Any]:
    """The rule's fields, checked: 422 naming the field, the condition's error with its place."""
    name = str(data.get("name", "")).strip()
    if not name or len(name) > 100:
        raise ValidationFailed(N_("a rule needs a name of at most 100 characters"),
                               field="name")
    same = Rule.scoped_select(Rule.id).where(Rule.name == name)
    if any(row["id"] != rule_id for row in await same):
        raise ValidationFailed(N_("a rule named %(name)s exists already"), field="name",
                               params={"name": name})
    condition = str(data.get("condition", "")).strip()
    if not condition or len(condition) > 2000:
        raise ValidationFailed(N_("write the condition, e.g. amount > 5000"),
                               field="condition")
    Condition(condition, field="condition")  # syntax errors name line:column
    priority = data.get("priority", "urgent")
    if priority not in RAISES_TO:
        raise ValidationFailed(N_("priority is high or urgent"), field="priority")
    users = data.get("notify_users", [])
    if not isinstance(users, list) or not all(
            isinstance(u, int) and not isinstance(u, bool) and u > 0 for u in users):
        raise ValidationFailed(N_("notify_users is a list of user ids"), field="notify_users")
    if users and len(await platform().list_users(users)) != len(set(users)):
        raise ValidationFailed(N_("notify_users names someone who is not in your "
                                  "organisation"), field="notify_users")
    teams = _names(data.get("notify_teams", []), "notify_teams")
    unknown = sorted(set(teams) - set(await work_orders.team_names()))
    if unknown:
        raise ValidationFailed(N_("no team is named %(names)s"), field="notify_teams",
                               params={"names": ", ".join(unknown)})
    position = data.get("position", 0)
    if not isinstance(position, int) or isinstance(position, bool) or not 0 <= position <= 9999:
        raise ValidationFailed(N_("position is a whole number from 0 to 9999"),
                               field="position")
    return {"name": name, "condition": condition, "priority": priority,
            "notify_roles": _names(data.get("notify_roles", []), "notify_roles"),
            "notify_teams": teams, "notify_users": sorted(set(users)), "position": position,
            "enabled": bool(data.get("enabled", True)),
            "note": str(data.get("note", ""))[:500]}


async def list_rules() -> list[dict[str, Any]]:
    return await Rule.scoped_select().order_by(Rule.position).order_by(Rule.id)


async def get_rule(rule_id: int) -> dict[str, Any]:
    return await Rule.scoped_get(rule_id, what="priority rule")


async def create_rule(data: Mapping[str, Any]) -> dict[str, Any]:
    if await Rule.scoped_count() >= MAX_RULES:
        raise ValidationFailed(N_("at most %(limit)s rules"), field="name",
                               params={"limit": MAX_RULES})
    values = await check(data)
    row = await Rule.scoped_insert(**values)
    await platform().audit("priority_rules.create", f"rule:{row['id']}", None, values)
    await platform().invalidate("priority_rules")
    return await get_rule(row["id"])


async def update_rule(rule_id: int, data: Mapping[str, Any]) -> dict[str, Any]:
    before = await get_rule(rule_id)
    values = await check({**before, **data}, rule_id=rule_id)
    await Rule.scoped_update({getattr(Rule, k): v for k, v in values.items()}
                             | {Rule.updated_at: platform().now()}).where(Rule.id == rule_id)
    await platform().audit("priority_rules.update", f"rule:{rule_id}",
                           {k: before[k] for k in values}, values)
    await platform().invalidate("priority_rules")
    return await get_rule(rule_id)


async def delete_rule(rule_id: int) -> None:
    before = await get_rule(rule_id)
    await Rule.scoped_delete().where(Rule.id == rule_id)
    await platform().audit("priority_rules.delete", f"rule:{rule_id}", before, None)
    await platform().invalidate("priority_rules")


async def _enabled_rules() -> list[tuple[dict[str, Any], Condition]]:
    async def load() -> list[tuple[dict[str, Any], Condition]]:
        rows = await Rule.scoped_select().where(Rule.enabled == True).order_by(  # noqa: E712
            Rule.position).order_by(Rule.id)
        return [(row, Condition(row["condition"])) for row in rows]

    return await platform().cached("priority_rules", load)


async def facts(order: Mapping[str, Any]) -> dict[str, Any]:
    """What a condition reads: the work order's fields, its customer and partner."""
    customer: Mapping[str, Any] = {}
    partner: Mapping[str, Any] = {}
    if order.get("customer_id"):
        try:
            customer = await platform().get_customer(order["customer_id"])
        except NotFound:
            customer = {}
    if order.get("partner_id"):
        try:
            partner = await platform().get_partner(order["partner_id"])
        except NotFound:
            partner = {}
    return {
        "amount": str(order.get("amount") or "0"), "currency": order.get("currency", "CNY"),
        "type": order.get("type", ""), "priority": order.get("priority", "normal"),
        "region_code": order.get("region_code") or "", "title": order.get("title", ""),
        "customer": {"level": customer.get("level") or "", "name": customer.get("name", ""),
                     "region_code": customer.get("region_code") or "",
                     "tags": list(customer.get("tags") or [])},
        "partner": {"kind": partner.get("kind") or "", "level": partner.get("level") or "",
                    "code": partner.get("code", "")},
    }


def matching(rules: Sequence[tuple[dict[str, Any], Condition]], values: Mapping[str, Any]
             ) -> tuple[list[dict[str, Any]], list[str]]:
    """The rules that hold, and notes on those that could not be checked."""
    held, notes = [], []
    for row, condition in rules:
        try:
            if condition.evaluate(values, KINDS):
                held.append(row)
        except ConditionError as exc:
            notes.append(f"{row['name']}: {exc.message}")
    return held, notes


async def try_rules(order: Mapping[str, Any], condition: str | None = None
                    ) -> dict[str, Any]:
    """For admins: which rules (or the condition given) hold for sample facts."""
    if order.get("customer_id"):  # another tenant's (or an unknown) customer: 404, as anywhere
        await platform().get_customer(order["customer_id"])
    if order.get("partner_id"):
        await platform().get_partner(order["partner_id"])
    values = {**await facts(order), **{k: v for k, v in order.items()
                                       if k in ("amount", "type", "priority")}}
    if condition is not None:
        rules = [({"id": None, "name": "…", "priority": "urgent"},
                  Condition(condition, field="condition"))]
    else:
        rules = await _enabled_rules()
    held, notes = matching(rules, values)
    return {"facts": values, "matched": [{"id": r["id"], "name": r["name"],
                                          "priority": r["priority"]} for r in held],
            "problems": notes}


async def apply(order: Mapping[str, Any]) -> dict[str, Any] | None:
    """Run the rules for a work order (its event payload); raise it and notify. ``None`` when
    no rule holds."""
    rules = await _enabled_rules()
    if not rules:
        return None
    held, _notes = matching(rules, await facts(order))
    if not held:
        return None
    top = max(held, key=lambda r: rank(r["priority"]))
    order_id = int(order["id"])
    names = "、".join(r["name"] for r in held)
    if rank(top["priority"]) > rank(order.get("priority", "normal")):
        await work_orders.set_priority(order_id, top["priority"],
                                       reason=f"优先级规则 / priority rule: {names}")
    for rule in held:
        people = set(rule["notify_users"])
        for role in rule["notify_roles"]:
            people |= {u["id"] for u in await platform().list_users(role=role)}
        people |= set(await work_orders.team_member_ids(rule["notify_teams"]))
        if people:
            number = order.get("number") or f"#{order_id}"
            await platform().notify(
                sorted(people),
                localized(f"紧急工单 {number}：{rule['name']}",
                          f"Urgent work order {number}: {rule['name']}"),
                body=str(order.get("title", "")), link=f"/admin/p/work_orders/{order_id}",
                level="urgent" if rule["priority"] == "urgent" else "warning",
                key=f"priority_rules:{order_id}:{rule['id']}")
    return {"priority": top["priority"], "rules": [r["name"] for r in held]}
