"""Unique rules of the sla tables: each includes tenant_id."""

from jimu_sdk import drop_index_sql, unique_index_sql
from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-24T08:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique calendar and policy names, calendar days, work orders and clocks per tenant"

UNIQUES = [
    ("sla_calendar", ("name",)),
    ("sla_calendar_day", ("calendar_id", "day")),
    ("sla_policy", ("name",)),
    ("sla_work_order", ("work_order_id",)),
    ("sla_clock", ("work_order_id", "kind")),
]


def _ddl(sql):
    async def run():
        from piccolo.engine.finder import engine_finder

        await engine_finder().run_ddl(sql)  # joins the migration's transaction

    return run


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="sla", description=DESCRIPTION)
    for table, columns in UNIQUES:
        manager.add_raw(_ddl(unique_index_sql(table, *columns)))
        manager.add_raw_backwards(_ddl(drop_index_sql(table, *columns)))
    return manager
