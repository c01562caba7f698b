"""At most one current tier per partner: a nightly evaluation racing an order's re-evaluation
(or a manual assignment) cannot leave two open rows; the loser's transaction fails and retries."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-24T02:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "one current assignment per partner"

CURRENT_INDEX = ("CREATE UNIQUE INDEX IF NOT EXISTS price_tiers_assignment_current "
                 "ON price_tiers_assignment (tenant_id, partner_id) WHERE valid_to IS NULL")


def _ddl(sql):
    async def run():
        from piccolo.engine.finder import engine_finder

        await engine_finder().run_ddl(sql)  # joins the migration's transaction

    return run


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="price_tiers", description=DESCRIPTION)
    manager.add_raw(_ddl(CURRENT_INDEX))
    manager.add_raw_backwards(_ddl("DROP INDEX IF EXISTS price_tiers_assignment_current"))
    return manager
