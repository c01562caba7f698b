from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Integer
from piccolo.columns.indexes import IndexMethod

ID = "2026-11-24T04:27:05:968387"
VERSION = "1.38.0"
DESCRIPTION = "core_tenant.data_version: moves on with every invalidation of cached data"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="jimu_core", description=DESCRIPTION
    )

    manager.add_column(
        table_class_name="Tenant",
        tablename="core_tenant",
        column_name="data_version",
        db_column_name="data_version",
        column_class_name="Integer",
        column_class=Integer,
        params={
            "default": 0,
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    return manager
