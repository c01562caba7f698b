"""Piccolo's configuration module (``PICCOLO_CONF=jimu.db.piccolo_conf``).

``DB`` and ``APP_REGISTRY`` are replaced by :class:`jimu.db.Database` when the platform starts,
with the engine from ``DATABASE_URL`` and the piccolo apps of core and every installed plugin;
the values below serve piccolo's own CLI (e.g. ``piccolo migrations new jimu_core --auto``).
"""

import os

from piccolo.conf.apps import AppRegistry

from jimu.db.engine import engine_from_url

DB = engine_from_url(os.environ.get("DATABASE_URL"), create_dirs=False)

APP_REGISTRY = AppRegistry(apps=["jimu.db.piccolo_app"])
