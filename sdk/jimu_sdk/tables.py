"""Tenant-owned tables: the only way a plugin should read or write its rows.

Mix :class:`TenantScoped` into a piccolo ``Table``; it adds an indexed ``tenant_id`` and
``scoped_*`` query builders that always filter (and stamp) the active tenant from the scope.
On PostgreSQL, row-level security enforces the same rule a second time, so a forgotten filter
returns nothing rather than another tenant's rows.

A unique rule on a tenant-owned table must include ``tenant_id``: declare it in
``tenant_unique`` (column names without ``tenant_id``) and create it in the migration with
:func:`unique_index_sql`; never put ``unique=True`` on a column.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from piccolo.columns import Column, Integer
from piccolo.table import Table

from jimu_sdk.context import current_tenant_id
from jimu_sdk.errors import NotFound


class TenantScoped:
    """Mixin for tenant-owned tables: ``class Note(TenantScoped, Table, tablename=...)``."""

    tenant_id = Integer(null=False, index=True)
    tenant_unique: ClassVar[tuple[tuple[str, ...], ...]] = ()

    @classmethod
    def _tenant_column(cls) -> Column:
        return cls.tenant_id  # type: ignore[return-value]

    @classmethod
    def scoped_select(cls, *columns: Any):
        table: type[Table] = cls  # type: ignore[assignment]
        # JSON columns come back decoded, as everywhere in Jimu.
        return table.select(*columns).output(load_json=True).where(
            cls._tenant_column() == current_tenant_id())

    @classmethod
    def scoped_objects(cls):
        table: type[Table] = cls  # type: ignore[assignment]
        return table.objects().where(cls._tenant_column() == current_tenant_id())

    @classmethod
    def scoped_count(cls):
        table: type[Table] = cls  # type: ignore[assignment]
        return table.count().where(cls._tenant_column() == current_tenant_id())

    @classmethod
    def scoped_update(cls, values: Mapping[Any, Any]):
        table: type[Table] = cls  # type: ignore[assignment]
        return table.update(dict(values)).where(cls._tenant_column() == current_tenant_id())

    @classmethod
    def scoped_delete(cls):
        table: type[Table] = cls  # type: ignore[assignment]
        return table.delete().where(cls._tenant_column() == current_tenant_id())

    @classmethod
    async def scoped_insert(cls, **values: Any) -> dict[str, Any]:
        """Insert one row for the active tenant and return it as a dict."""
        table: type[Table] = cls  # type: ignore[assignment]
        row = table(**values, tenant_id=current_tenant_id())
        await row.save()
        return row.to_dict()

    @classmethod
    async def scoped_get(cls, row_id: int, *, what: str = "record") -> dict[str, Any]:
        """One row by id for the active tenant; another tenant's id is simply not found."""
        table: type[Table] = cls  # type: ignore[assignment]
        row = await cls.scoped_select().where(table._meta.primary_key == row_id).first()
        if row is None:
            raise NotFound(f"{what} {row_id} not found")
        return row


def is_tenant_table(table: type[Table]) -> bool:
    return issubclass(table, TenantScoped)


def unique_index_sql(tablename: str, *columns: str) -> str:
    """Portable (SQLite and PostgreSQL) DDL for a unique rule that includes ``tenant_id``."""
    cols = ", ".join(("tenant_id", *columns))
    name = f"{tablename}_{'_'.join(columns)}_uniq"
    return f"CREATE UNIQUE INDEX IF NOT EXISTS {name} ON {tablename} ({cols})"


def drop_index_sql(tablename: str, *columns: str) -> str:
    return f"DROP INDEX IF EXISTS {tablename}_{'_'.join(columns)}_uniq"
