"""Unique rule of priority_rules_rule: a rule name per tenant."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from jimu_sdk.tables import drop_index_sql, unique_index_sql

ID = "2026-11-24T09:35:23:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique rule name per tenant"


def _ddl(sql):
    async def run():
        from piccolo.engine.finder import engine_finder

        await engine_finder().run_ddl(sql)  # joins the migration's transaction

    return run


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="priority_rules",
                               description=DESCRIPTION)
    manager.add_raw(_ddl(unique_index_sql("priority_rules_rule", "name")))
    manager.add_raw_backwards(_ddl(drop_index_sql("priority_rules_rule", "name")))
    return manager
