"""Unique rules of tenant-owned tables (always including tenant_id) and the national regions.

Portable unique indexes, because SQLite cannot add table constraints after creation. Kept apart
from the table migration because piccolo runs raw steps before it creates tables.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from jimu_sdk.tables import drop_index_sql, unique_index_sql

ID = "2026-11-23T20:22:30:000000"
VERSION = "1.38.0"
DESCRIPTION = "tenant-scoped unique rules and national regions"

UNIQUE_RULES = [
    ("core_plugin_config", "plugin"),
    ("core_role", "name"),
    ("core_partner", "code"),
]


def _ddl(sql):
    async def run():
        from piccolo.engine.finder import engine_finder

        await engine_finder().run_ddl(sql)  # joins the migration's transaction

    return run


async def load_regions():
    from jimu.regions import seed_regions

    await seed_regions()


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="jimu_core", description=DESCRIPTION)
    for table, column in UNIQUE_RULES:
        manager.add_raw(_ddl(unique_index_sql(table, column)))
    manager.add_raw(load_regions)
    manager.add_raw_backwards(_ddl("DELETE FROM core_region"))
    for table, column in UNIQUE_RULES:
        manager.add_raw_backwards(_ddl(drop_index_sql(table, column)))
    return manager
