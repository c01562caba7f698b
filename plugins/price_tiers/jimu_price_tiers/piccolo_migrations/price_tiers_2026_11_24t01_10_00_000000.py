from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from jimu_sdk import drop_index_sql, unique_index_sql

ID = "2026-11-24T01:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique tier and rule set codes, one volume row per order line, window index"

WINDOW_INDEX = ("CREATE INDEX IF NOT EXISTS price_tiers_volume_window "
                "ON price_tiers_volume (tenant_id, completed_at, partner_id)")


def _ddl(sql):
    async def run():
        from piccolo.engine.finder import engine_finder

        await engine_finder().run_ddl(sql)  # joins the migration's transaction

    return run


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="price_tiers", description=DESCRIPTION)
    for table, columns in (("price_tiers_tier", ("code",)),
                           ("price_tiers_rule_set", ("code",)),
                           ("price_tiers_volume", ("order_ref", "line_no"))):
        manager.add_raw(_ddl(unique_index_sql(table, *columns)))
        manager.add_raw_backwards(_ddl(drop_index_sql(table, *columns)))
    manager.add_raw(_ddl(WINDOW_INDEX))
    manager.add_raw_backwards(_ddl("DROP INDEX IF EXISTS price_tiers_volume_window"))
    return manager
