from jimu_sdk import drop_index_sql, unique_index_sql
from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-24T01:10:28:000000"
VERSION = "1.38.0"
DESCRIPTION = "one factor code per tenant"


def _ddl(sql):
    async def run():
        from piccolo.engine.finder import engine_finder

        await engine_finder().run_ddl(sql)  # joins the migration's transaction

    return run


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="price_factors",
                               description=DESCRIPTION)
    manager.add_raw(_ddl(unique_index_sql("price_factors_factor", "code")))
    manager.add_raw_backwards(_ddl(drop_index_sql("price_factors_factor", "code")))
    return manager
