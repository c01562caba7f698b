"""Unique rules of the quotations tables: each includes tenant_id."""

from jimu_sdk import drop_index_sql, unique_index_sql
from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-24T01:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique quotation number+version and order number per tenant"

UNIQUES = [
    ("quotations_quotation", ("number", "version")),
    ("quotations_order", ("number",)),
]


def _ddl(sql):
    async def run():
        from piccolo.engine.finder import engine_finder

        await engine_finder().run_ddl(sql)  # joins the migration's transaction

    return run


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="quotations", description=DESCRIPTION)
    for table, columns in UNIQUES:
        manager.add_raw(_ddl(unique_index_sql(table, *columns)))
        manager.add_raw_backwards(_ddl(drop_index_sql(table, *columns)))
    return manager
