"""Unique rule of core_data_revision: one revision row per (tenant, data set name)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from jimu_sdk.tables import drop_index_sql, unique_index_sql

ID = "2026-11-24T00:59:35:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique (tenant_id, name) on core_data_revision"


def _ddl(sql):
    async def run():
        from piccolo.engine.finder import engine_finder

        await engine_finder().run_ddl(sql)  # joins the migration's transaction

    return run


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="jimu_core", description=DESCRIPTION)
    manager.add_raw(_ddl(unique_index_sql("core_data_revision", "name")))
    manager.add_raw_backwards(_ddl(drop_index_sql("core_data_revision", "name")))
    return manager
