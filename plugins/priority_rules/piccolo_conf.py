"""Piccolo's configuration for writing migrations (development only, not in the wheel):
``PICCOLO_CONF=piccolo_conf piccolo migrations new priority_rules --auto``."""

from piccolo.conf.apps import AppRegistry
from piccolo.engine.sqlite import SQLiteEngine

DB = SQLiteEngine(path="piccolo-dev.sqlite3")

APP_REGISTRY = AppRegistry(apps=["jimu.db.piccolo_app", "jimu_priority_rules.piccolo_app"])
