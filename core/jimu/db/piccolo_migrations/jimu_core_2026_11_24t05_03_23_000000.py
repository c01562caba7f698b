"""Unique rules of the flow tables: a flow code, a version number per flow, a step number
per run (two workers can never write the same step of a run twice)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from jimu_sdk.tables import drop_index_sql, unique_index_sql

ID = "2026-11-24T05:03:23:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique rules of core_flow, core_flow_version and core_flow_step"

RULES = (("core_flow", ("code",)), ("core_flow_version", ("flow_id", "version")),
         ("core_flow_step", ("run_id", "seq")))


def _ddl(sql):
    async def run():
        from piccolo.engine.finder import engine_finder

        await engine_finder().run_ddl(sql)  # joins the migration's transaction

    return run


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="jimu_core", description=DESCRIPTION)
    for table, columns in RULES:
        manager.add_raw(_ddl(unique_index_sql(table, *columns)))
        manager.add_raw_backwards(_ddl(drop_index_sql(table, *columns)))
    return manager
