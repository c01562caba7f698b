"""Database: engines, transactions, migrations and row-level security."""

from jimu.db.database import Database
from jimu.db.engine import is_postgres, transaction

__all__ = ["Database", "is_postgres", "transaction"]
