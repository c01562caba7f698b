import os

from piccolo.conf.apps import AppConfig

from jimu_priority_rules.tables import Rule

APP_CONFIG = AppConfig(
    app_name="priority_rules",
    migrations_folder_path=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                        "piccolo_migrations"),
    table_classes=[Rule],
    migration_dependencies=["jimu.db.piccolo_app"],
    commands=[],
)
