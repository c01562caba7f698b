"""Unique rules of the work orders tables: each includes tenant_id."""

from jimu_sdk import drop_index_sql, unique_index_sql
from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-24T08:05:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique work order number, team name and saved filter name per tenant"

UNIQUES = [
    ("work_orders_work_order", ("number",)),
    ("work_orders_team", ("name",)),
    ("work_orders_saved_filter", ("user_id", "name")),
]


def _ddl(sql):
    async def run():
        from piccolo.engine.finder import engine_finder

        await engine_finder().run_ddl(sql)  # joins the migration's transaction

    return run


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="work_orders", description=DESCRIPTION)
    for table, columns in UNIQUES:
        manager.add_raw(_ddl(unique_index_sql(table, *columns)))
        manager.add_raw_backwards(_ddl(drop_index_sql(table, *columns)))
    return manager
