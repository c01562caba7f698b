from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Integer
from piccolo.columns.indexes import IndexMethod

ID = "2026-11-24T08:02:44:150159"
VERSION = "1.38.0"
DESCRIPTION = "core_flow_run.step_count: the next timeline step's number without counting"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="jimu_core", description=DESCRIPTION
    )

    manager.add_column(
        table_class_name="FlowRun",
        tablename="core_flow_run",
        column_name="step_count",
        db_column_name="step_count",
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
