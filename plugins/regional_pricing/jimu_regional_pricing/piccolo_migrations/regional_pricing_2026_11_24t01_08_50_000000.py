"""Unique rules: one zone code and one store location per partner, per tenant."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from jimu_sdk import drop_index_sql, unique_index_sql

ID = "2026-11-24T01:08:50:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique zone code and store location per tenant"


def _ddl(sql):
    async def run():
        from piccolo.engine.finder import engine_finder

        await engine_finder().run_ddl(sql)  # joins the migration's transaction

    return run


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="regional_pricing",
                               description=DESCRIPTION)
    manager.add_raw(_ddl(unique_index_sql("regional_pricing_zone", "code")))
    manager.add_raw(_ddl(unique_index_sql("regional_pricing_store_location", "partner_id")))
    manager.add_raw_backwards(_ddl(drop_index_sql("regional_pricing_zone", "code")))
    manager.add_raw_backwards(_ddl(drop_index_sql("regional_pricing_store_location",
                                                  "partner_id")))
    return manager
