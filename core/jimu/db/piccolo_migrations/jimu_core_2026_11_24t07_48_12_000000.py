"""Unique rule of core_notification: one notification per person and key (redelivery-safe)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from jimu_sdk.tables import drop_index_sql, unique_index_sql

ID = "2026-11-24T07:48:12:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique rule of core_notification"


def _ddl(sql):
    async def run():
        from piccolo.engine.finder import engine_finder

        await engine_finder().run_ddl(sql)  # joins the migration's transaction

    return run


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="jimu_core", description=DESCRIPTION)
    manager.add_raw(_ddl(unique_index_sql("core_notification", "user_id", "key")))
    manager.add_raw_backwards(_ddl(drop_index_sql("core_notification", "user_id", "key")))
    return manager
