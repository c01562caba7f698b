"""Piccolo's configuration for development only (not part of the wheel).

After changing ``jimu_price_factors/tables.py``, run from this directory::

    PICCOLO_CONF=piccolo_conf ../../.venv/bin/piccolo migrations new price_factors --auto
"""

from piccolo.conf.apps import AppRegistry
from piccolo.engine.sqlite import SQLiteEngine

DB = SQLiteEngine(path="piccolo-dev.sqlite3")

APP_REGISTRY = AppRegistry(apps=["jimu.db.piccolo_app", "jimu_price_factors.piccolo_app"])
