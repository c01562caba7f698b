"""The entries a settlement run wrote, found by period: a run first deletes the previous run's
(``run_id`` set), which without this index read every entry booked in the period."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-24T20:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "settlement index of the entries runs wrote"

NAME = "settlement_entry_run"
CREATE = (f"CREATE INDEX IF NOT EXISTS {NAME} ON settlement_entry (tenant_id, period) "
          "WHERE run_id IS NOT NULL")


def _ddl(sql):
    async def run():
        from piccolo.engine.finder import engine_finder

        await engine_finder().run_ddl(sql)  # joins the migration's transaction

    return run


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="settlement", description=DESCRIPTION)
    manager.add_raw(_ddl(CREATE))
    manager.add_raw_backwards(_ddl(f"DROP INDEX IF EXISTS {NAME}"))
    return manager
