import os

from piccolo.conf.apps import AppConfig

from jimu_sla.tables import Calendar, CalendarDay, Clock, Policy, TrackedWorkOrder

APP_CONFIG = AppConfig(
    app_name="sla",
    migrations_folder_path=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                        "piccolo_migrations"),
    table_classes=[Calendar, CalendarDay, Policy, TrackedWorkOrder, Clock],
    migration_dependencies=["jimu.db.piccolo_app"],
    commands=[],
)
