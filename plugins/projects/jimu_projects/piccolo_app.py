import os

from piccolo.conf.apps import AppConfig

from jimu_projects.tables import Component, Package, Usage, UsageLine

APP_CONFIG = AppConfig(
    app_name="projects",
    migrations_folder_path=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                        "piccolo_migrations"),
    table_classes=[Package, Component, Usage, UsageLine],
    migration_dependencies=["jimu.db.piccolo_app"],
    commands=[],
)
