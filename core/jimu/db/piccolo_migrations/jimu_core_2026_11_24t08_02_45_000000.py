"""Backfill core_flow_run.step_count from the timeline (runs started before the column)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-24T08:02:45:000000"
VERSION = "1.38.0"
DESCRIPTION = "backfill core_flow_run.step_count"

BACKFILL = ("UPDATE core_flow_run SET step_count = COALESCE((SELECT MAX(s.seq) FROM "
            "core_flow_step s WHERE s.run_id = core_flow_run.id), 0)")


async def backfill():
    from piccolo.engine.finder import engine_finder

    await engine_finder().run_ddl(BACKFILL)  # joins the migration's transaction


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="jimu_core", description=DESCRIPTION)
    manager.add_raw(backfill)
    return manager
