"""Database: engines, transactions, migrations and row-level security."""

import warnings

from jimu.db.database import Database
from jimu.db.engine import is_postgres, transaction

__all__ = ["Database", "is_postgres", "transaction"]

# SQLite's LIKE is already case-insensitive for ASCII, which is what ILIKE asks for.
warnings.filterwarnings("ignore", message=".*SQLite doesn't support ILIKE")
