"""Saved filters: a person's named work order lists (the list's query, kept as JSON). Each
person sees, changes and deletes only their own."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Annotated, Any

import msgspec
from jimu_sdk import N_, Conflict, NotFound, PermissionDenied, ValidationFailed

from jimu_work_orders import services
from jimu_work_orders.tables import SavedFilter

Id = Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)]
MAX_FILTERS = 100


class ListQuery(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """What a work order list filters and sorts by (the list route's query parameters)."""

    status: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    priority: Annotated[str, msgspec.Meta(max_length=100)] | None = None
    type: Annotated[str, msgspec.Meta(max_length=400)] | None = None
    assignee_id: Id | None = None
    team_id: Id | None = None
    customer_id: Id | None = None
    partner_id: Id | None = None
    unassigned: bool | None = None
    q: Annotated[str, msgspec.Meta(max_length=100)] | None = None
    created_from: dt.date | None = None
    created_to: dt.date | None = None
    scheduled_from: dt.date | None = None
    scheduled_to: dt.date | None = None
    sort: Annotated[str, msgspec.Meta(max_length=20)] | None = None


def _field_of(problem: str) -> str:
    found = re.search(r"unknown field `([^`]+)`", problem) or re.search(
        r"at `\$\.([^`]+)`", problem)
    return f"query.{found.group(1)}" if found else "query"


def parse_query(raw: Any) -> dict[str, Any]:
    """A saved filter's query, checked as the list checks its parameters; 422 naming the
    field (``query.status``)."""
    if not isinstance(raw, Mapping):
        raise ValidationFailed(N_("query must be an object of list filters"), field="query")
    try:
        query = msgspec.convert(dict(raw), ListQuery, strict=False)
    except msgspec.ValidationError as exc:
        raise ValidationFailed(N_("query: %(problem)s"), field=_field_of(str(exc)),
                               params={"problem": str(exc)}) from None
    values = msgspec.to_builtins(query)
    try:
        services.list_conditions(msgspec.structs.asdict(query))
        services.order_of(query.sort)
    except ValidationFailed as exc:
        raise ValidationFailed(exc.message_id, field=f"query.{exc.field}",
                               params=exc.params) from None
    return values


def _me() -> int:
    me = services.user_id()
    if me is None:
        raise PermissionDenied(N_("saved filters belong to a signed-in person"))
    return me


async def list_filters() -> list[dict[str, Any]]:
    return await SavedFilter.scoped_select().where(SavedFilter.user_id == _me()).order_by(
        SavedFilter.name)


async def get_filter(filter_id: int) -> dict[str, Any]:
    row = await SavedFilter.scoped_select().where(
        (SavedFilter.id == filter_id) & (SavedFilter.user_id == _me())).first()
    if row is None:
        raise NotFound(N_("saved filter %(id)s not found"), params={"id": filter_id})
    return row


def _name(value: str) -> str:
    name = (value or "").strip()
    if not name:
        raise ValidationFailed(N_("give the filter a name"), field="name")
    return name[:100]


async def _unique(name: str, filter_id: int | None = None) -> None:
    same = await SavedFilter.scoped_select(SavedFilter.id).where(
        (SavedFilter.user_id == _me()) & (SavedFilter.name == name)).first()
    if same is not None and same["id"] != filter_id:
        raise Conflict(N_("you have a filter named %(name)s already"), field="name",
                       params={"name": name})


async def create_filter(*, name: str, query: Any) -> dict[str, Any]:
    me, name, values = _me(), _name(name), parse_query(query)
    await _unique(name)
    if await SavedFilter.scoped_count().where(SavedFilter.user_id == me) >= MAX_FILTERS:
        raise Conflict(N_("you have %(max)s saved filters; delete one first"),
                       params={"max": MAX_FILTERS})
    return await SavedFilter.scoped_insert(user_id=me, name=name, query=values,
                                           created_at=services.now(),
                                           updated_at=services.now())


async def update_filter(filter_id: int, *, name: str, query: Any) -> dict[str, Any]:
    await get_filter(filter_id)
    name, values = _name(name), parse_query(query)
    await _unique(name, filter_id)
    await SavedFilter.scoped_update({SavedFilter.name: name, SavedFilter.query: values,
                                     SavedFilter.updated_at: services.now()}).where(
        (SavedFilter.id == filter_id) & (SavedFilter.user_id == _me()))
    return await get_filter(filter_id)


async def delete_filter(filter_id: int) -> None:
    await get_filter(filter_id)
    await SavedFilter.scoped_delete().where(
        (SavedFilter.id == filter_id) & (SavedFilter.user_id == _me()))
