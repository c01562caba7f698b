from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from jimu_sdk import drop_index_sql, unique_index_sql

ID = "2026-11-24T01:24:23:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique package codes, components and usage refs per tenant"

UNIQUES = [
    ("projects_package", ("code",)),
    ("projects_component", ("package_id", "sku")),
    ("projects_usage", ("ref",)),
]


def _ddl(sql):
    async def run():
        from piccolo.engine.finder import engine_finder

        await engine_finder().run_ddl(sql)  # joins the migration's transaction

    return run


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="projects", description=DESCRIPTION)
    for table, columns in UNIQUES:
        manager.add_raw(_ddl(unique_index_sql(table, *columns)))
        manager.add_raw_backwards(_ddl(drop_index_sql(table, *columns)))
    return manager
