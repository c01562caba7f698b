"""Database engines and the one transaction shape every request, job and timer uses.

SQLite (the embedded default) gets one connection per transaction, WAL, and ``IMMEDIATE``
transactions for writes so concurrent writers queue instead of failing with "database locked"
(STACK_NOTES §5, §7). PostgreSQL gets an asyncpg pool per event loop, because the web app and the
dramatiq worker run on different loops and a pool cannot cross loops (STACK_NOTES §7).

On PostgreSQL each transaction also drops to the application role (which owns no table) and sets
``app.tenant_id`` transaction-locally; the row-level-security policies read it and fail closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlparse

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine, PostgresTransaction
from piccolo.engine.sqlite import SQLiteEngine, TransactionType

APP_ROLE = "jimu_app"
log = logging.getLogger("jimu.db")


class ReleasingPostgresTransaction(PostgresTransaction):
    """piccolo's transaction, but the connection goes back to its pool whatever happens.

    piccolo releases the connection after ``COMMIT``/``ROLLBACK`` without ``finally``: a task
    cancelled in the middle (a hook's ``asyncio.timeout``, a client gone) kept its connection
    for ever, and closing the pool then waited for it (the teardown hang of session 5).
    """

    async def __aenter__(self) -> PostgresTransaction:
        if self._parent is not None:
            return self._parent
        self.connection = await self.get_connection()
        self._pool = self.engine.pool
        try:
            self.transaction = self.connection.transaction()
            await self.begin()
        except BaseException:
            await self._give_back()
            raise
        self.context = self.engine.current_transaction.set(self)
        return self

    async def __aexit__(self, exception_type: Any, exception: Any, traceback: Any) -> bool:
        if self._parent:
            return exception is None
        try:
            if exception:
                if not self._rolled_back:
                    await self.rollback()
            elif not self._committed and not self._rolled_back:
                await self.commit()
        finally:
            self.engine.current_transaction.reset(self.context)
            await self._give_back()
        return exception is None

    async def _give_back(self) -> None:
        if self._pool is not None:
            # asyncpg resets (or, if it is mid-query, terminates) the connection on release.
            await self._pool.release(self.connection)
        else:
            await self.connection.close()


async def _end_transaction(connection: Any) -> None:
    """What a connection needs before it goes back to the pool: no open transaction.

    Everything a transaction sets is transaction-local (``set_config(…, true)``: the role and
    the tenant), and no pooled connection listens, holds cursors or takes session advisory
    locks, so asyncpg's default reset (``RESET ALL``, ``UNLISTEN *``, … ) would be one more
    round trip per transaction for nothing.
    """
    if connection.is_in_transaction():
        await connection.execute("ROLLBACK")


class LoopLocalPostgresEngine(PostgresEngine):
    """A ``PostgresEngine`` whose connection pool belongs to the event loop that uses it."""

    def __init__(self, config: dict[str, Any], pool_size: int = 10) -> None:
        self._pools: dict[int, Any] = {}
        self._pool_locks: dict[int, asyncio.Lock] = {}
        self._pool_size = pool_size
        super().__init__(config=config)

    @property  # type: ignore[override]
    def pool(self) -> Any:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return None
        return self._pools.get(id(loop))

    @pool.setter
    def pool(self, value: Any) -> None:  # piccolo's __init__ assigns None; pools are per loop
        if value is not None:
            self._pools[id(asyncio.get_running_loop())] = value

    async def ensure_pool(self) -> None:
        if self.pool is not None:
            return
        loop_id = id(asyncio.get_running_loop())
        # Two tasks of a fresh loop (e.g. two worker threads) must not both create a pool.
        async with self._pool_locks.setdefault(loop_id, asyncio.Lock()):
            if self.pool is None:
                import asyncpg

                self._pools[loop_id] = await asyncpg.create_pool(
                    **self.config, min_size=1, max_size=self._pool_size,
                    reset=_end_transaction)

    def transaction(self, allow_nested: bool = True) -> PostgresTransaction:
        return ReleasingPostgresTransaction(engine=self, allow_nested=allow_nested)

    async def close_pool(self, timeout: float = 10.0) -> None:
        """Close the pool of the running loop; connections still out after ``timeout`` are cut."""
        self._pool_locks.pop(id(asyncio.get_running_loop()), None)
        pool = self._pools.pop(id(asyncio.get_running_loop()), None)
        if pool is not None:
            try:
                async with asyncio.timeout(timeout):
                    await pool.close()
            except TimeoutError:
                # asyncpg terminates the pool itself when close() is cancelled; say so.
                pool.terminate()
                log.warning("database pool closed by force: a connection was never returned")

    def terminate_pools(self) -> None:
        """Drop pools left behind by loops that are gone (best effort)."""
        for pool in self._pools.values():
            # Its loop may be closed already; the server then drops the sockets itself.
            with contextlib.suppress(RuntimeError):
                pool.terminate()
        self._pools.clear()
        self._pool_locks.clear()


def default_sqlite_path() -> Path:
    return Path(os.environ.get("JIMU_DATA_DIR", "var")) / "jimu.sqlite3"


def engine_from_url(url: str | None, *, pool_size: int = 10, create_dirs: bool = True
                    ) -> Engine:
    """``sqlite:///path`` / a bare path, or ``postgres://user@host:port/db``."""
    if not url:
        url = f"sqlite:///{default_sqlite_path()}"
    parsed = urlparse(url)
    if parsed.scheme in ("postgres", "postgresql"):
        config: dict[str, Any] = {
            "host": parsed.hostname or "127.0.0.1",
            "port": parsed.port or 5432,
            "user": unquote(parsed.username or "postgres"),
            "database": (parsed.path or "/postgres").lstrip("/") or "postgres",
        }
        if parsed.password:
            config["password"] = unquote(parsed.password)
        # Connection options ride in the query: ?statement_cache_size=0 behind pgbouncer in
        # transaction mode (asyncpg's prepared statements), ?ssl=require, ?command_timeout=30.
        for key, value in parse_qsl(parsed.query):
            config[key] = int(value) if value.isdigit() else value
        return LoopLocalPostgresEngine(config=config, pool_size=pool_size)
    if parsed.scheme == "sqlite":
        path = url[len("sqlite:///"):] if url.startswith("sqlite:///") else parsed.path
    elif parsed.scheme == "":
        path = url
    else:
        raise ValueError(
            f"DATABASE_URL scheme {parsed.scheme!r} is not supported; use sqlite:///path "
            "or postgres://user@host:port/database"
        )
    if path == ":memory:":
        raise ValueError("an in-memory SQLite database does not persist between queries; "
                         "use a file path")
    if create_dirs:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    return SQLiteEngine(path=path, timeout=60)


def is_postgres(engine: Engine) -> bool:
    return isinstance(engine, PostgresEngine)


@asynccontextmanager
async def transaction(
    engine: Engine, *, write: bool = True, tenant_id: int | None = None
) -> AsyncIterator[Any]:
    """One database transaction; nested calls join the outer one (and keep its tenant).

    On PostgreSQL it drops to the application role and names the tenant for row-level
    security in one statement (``set_config('role', …)`` is ``SET LOCAL ROLE``).
    """
    current = engine.current_transaction.get()
    if current is not None:
        yield current
        return
    if isinstance(engine, LoopLocalPostgresEngine):
        await engine.ensure_pool()
        async with engine.transaction() as tx:
            await tx.connection.execute(
                "SELECT set_config('role', $1, true), set_config('app.tenant_id', $2, true)",
                APP_ROLE, "" if tenant_id is None else str(tenant_id))
            yield tx
    elif isinstance(engine, SQLiteEngine):
        kind = TransactionType.immediate if write else TransactionType.deferred
        async with engine.transaction(transaction_type=kind) as tx:
            yield tx
    else:  # pragma: no cover - only the two engines above are configured
        async with engine.transaction() as tx:
            yield tx


async def set_tenant(engine: Engine, tenant_id: int | None) -> None:
    """Tell the row-level-security policies which tenant this transaction acts for."""
    tx = engine.current_transaction.get()
    if tx is None or not is_postgres(engine):
        return
    await tx.connection.execute(
        "SELECT set_config('app.tenant_id', $1, true)", "" if tenant_id is None else str(tenant_id)
    )
