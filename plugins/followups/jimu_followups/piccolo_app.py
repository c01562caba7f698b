import os

from piccolo.conf.apps import AppConfig

from jimu_followups.tables import FollowUp

APP_CONFIG = AppConfig(
    app_name="followups",
    migrations_folder_path=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                        "piccolo_migrations"),
    table_classes=[FollowUp],
    migration_dependencies=["jimu.db.piccolo_app"],
    commands=[],
)
