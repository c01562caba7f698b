import os

from piccolo.conf.apps import AppConfig

from jimu_parts.tables import Movement, Part, Reservation, Stock, Warehouse

APP_CONFIG = AppConfig(
    app_name="parts",
    migrations_folder_path=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                        "piccolo_migrations"),
    table_classes=[Warehouse, Part, Stock, Movement, Reservation],
    migration_dependencies=["jimu.db.piccolo_app"],
    commands=[],
)
