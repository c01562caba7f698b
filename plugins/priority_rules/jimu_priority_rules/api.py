"""Routes under /api/v1/priority_rules and the admin page under /admin/p/priority_rules."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import msgspec
from jimu_sdk.params import RecordIdParam
from jimu_sdk.web import needs
from litestar import delete, get, post, put
from litestar.status_codes import HTTP_204_NO_CONTENT

from jimu_priority_rules import services

Names = Annotated[list[Annotated[str, msgspec.Meta(max_length=100)]],
                  msgspec.Meta(max_length=20)]


class RuleIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    condition: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
    priority: str = "urgent"
    notify_roles: Names = []
    notify_teams: Names = []
    notify_users: Annotated[list[int], msgspec.Meta(max_length=50)] = []
    position: int = 0
    enabled: bool = True
    note: Annotated[str, msgspec.Meta(max_length=500)] = ""


class RulePatch(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)] | None = None
    condition: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)] | None = None
    priority: str | None = None
    notify_roles: Names | None = None
    notify_teams: Names | None = None
    notify_users: Annotated[list[int], msgspec.Meta(max_length=50)] | None = None
    position: int | None = None
    enabled: bool | None = None
    note: Annotated[str, msgspec.Meta(max_length=500)] | None = None


class RuleOut(msgspec.Struct):
    id: int
    name: str
    condition: str
    priority: str
    notify_roles: list[str]
    notify_teams: list[str]
    notify_users: list[int]
    position: int
    enabled: bool
    note: str
    updated_at: dt.datetime


class TryIn(msgspec.Struct, forbid_unknown_fields=True):
    amount: Annotated[str, msgspec.Meta(pattern=r"^-?\d{1,12}(\.\d{1,2})?$")] = "0"
    type: Annotated[str, msgspec.Meta(max_length=63)] = ""
    priority: str = "normal"
    customer_id: int | None = None
    partner_id: int | None = None
    condition: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)] | None = None


def out(row: dict[str, Any]) -> RuleOut:
    return RuleOut(**{k: row[k] for k in RuleOut.__struct_fields__})


@get("/rules", guards=needs("priority_rules.read"), summary="Priority rules, in order")
async def list_rules() -> list[RuleOut]:
    return [out(r) for r in await services.list_rules()]


@post("/rules", guards=needs("priority_rules.write"), summary="Add a priority rule")
async def create_rule(data: RuleIn) -> RuleOut:
    return out(await services.create_rule(msgspec.structs.asdict(data)))


@get("/rules/{priority_rule_id:int}", guards=needs("priority_rules.read"), summary="One rule")
async def get_rule(priority_rule_id: RecordIdParam) -> RuleOut:
    return out(await services.get_rule(priority_rule_id))


@put("/rules/{priority_rule_id:int}", guards=needs("priority_rules.write"),
     summary="Change a rule")
async def update_rule(priority_rule_id: RecordIdParam, data: RulePatch) -> RuleOut:
    changes = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not None}
    return out(await services.update_rule(priority_rule_id, changes))


@delete("/rules/{priority_rule_id:int}", guards=needs("priority_rules.write"),
        status_code=HTTP_204_NO_CONTENT, summary="Delete a rule")
async def delete_rule(priority_rule_id: RecordIdParam) -> None:
    await services.delete_rule(priority_rule_id)


@post("/try", guards=needs("priority_rules.read"), status_code=200,
      summary="Which rules (or the condition given) hold for a sample work order")
async def try_rules(data: TryIn) -> dict[str, Any]:
    sample = msgspec.structs.asdict(data)
    condition = sample.pop("condition")
    return await services.try_rules(sample, condition)


ROUTES = [list_rules, create_rule, get_rule, update_rule, delete_rule, try_rules]
