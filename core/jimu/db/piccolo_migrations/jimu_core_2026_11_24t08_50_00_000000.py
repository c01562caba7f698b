"""A partial index of pending timers by due time: claiming due timers reads only pending rows
that are due, however many timers are done (history) or pending far in the future."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-24T08:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "partial index core_timer (due_at) where pending"

CREATE = ("CREATE INDEX IF NOT EXISTS core_timer_pending_due ON core_timer (due_at) "
          "WHERE status = 'pending'")
DROP = "DROP INDEX IF EXISTS core_timer_pending_due"


def _ddl(sql):
    async def run():
        from piccolo.engine.finder import engine_finder

        await engine_finder().run_ddl(sql)  # joins the migration's transaction

    return run


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="jimu_core", description=DESCRIPTION)
    manager.add_raw(_ddl(CREATE))
    manager.add_raw_backwards(_ddl(DROP))
    return manager
