"""The list conventions every collection endpoint follows (see docs/api-conventions.md).

``?page=1&per_page=50`` (per_page at most 200), ``?sort=name`` or ``?sort=-created_at``
(allowed fields listed per endpoint), ``?q=`` free-text search, plus per-endpoint filters.
Answers are ``{"items": [...], "total": N, "page": P, "per_page": S}``.

Ids are ``RecordIdParam`` in paths, ``RecordIdFilter`` in queries and ``RecordId`` in bodies: an
id too large for the database column is refused with a 400 naming it, instead of failing in the
database driver. Constraints of parameters go in ``Parameter(...)``: litestar ignores a
``msgspec.Meta`` on a path or query parameter (it only applies inside structs).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

import msgspec
from jimu_sdk.errors import ValidationFailed
from jimu_sdk.params import (  # noqa: F401 - core's routes import them from here too
    MAX_RECORD_ID,
    RecordId,
    RecordIdFilter,
    RecordIdParam,
)
from litestar.params import Parameter
from piccolo.columns import Column
from piccolo.query import Select

MAX_PER_PAGE = 200

PageNumber = Annotated[int, Parameter(ge=1, le=1_000_000, description="page number, from 1")]
PerPage = Annotated[int, Parameter(ge=1, le=MAX_PER_PAGE, description="items per page")]
SortParam = Annotated[str | None, Parameter(
    max_length=64, description="field to sort by; prefix with '-' for descending")]
SearchParam = Annotated[str | None, Parameter(max_length=100, description="free-text search")]


class PageInfo(msgspec.Struct):
    total: int
    page: int
    per_page: int


def apply_sort(query: Select, table: Any, sort: str | None, allowed: Sequence[str],
               default: str) -> Select:
    key = sort or default
    descending = key.startswith("-")
    name = key.lstrip("-")
    if name not in allowed:
        raise ValidationFailed(f"cannot sort by {name!r}; choose one of {', '.join(allowed)}",
                               field="sort")
    column: Column = getattr(table, name)
    query = query.order_by(column, ascending=not descending)
    if name != "id":
        query = query.order_by(table.id, ascending=not descending)
    return query


def page_slice(query: Select, page: int, per_page: int) -> Select:
    return query.limit(per_page).offset((page - 1) * per_page)


def like_pattern(text: str) -> str:
    """A contains-pattern; wildcard characters typed by the user are dropped (SQLite and
    PostgreSQL disagree on LIKE escapes)."""
    return f"%{text.replace('%', '').replace('_', '')}%"
