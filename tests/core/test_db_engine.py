"""The PostgreSQL engine gives every connection back, even when a transaction ends badly."""

import asyncio
import os

import pytest
from jimu.db.engine import ReleasingPostgresTransaction

on_postgres = pytest.mark.skipif(not os.environ.get("JIMU_TEST_DATABASE_URL"),
                                 reason="connection pools exist on PostgreSQL only")


@on_postgres
@pytest.mark.parametrize("failure", [asyncio.CancelledError, OSError])
async def test_a_commit_that_fails_or_is_cancelled_returns_its_connection(
        jimu_platform, monkeypatch, failure):
    db = jimu_platform.kernel.db
    async with db.transaction():
        pass
    pool = db.engine.pool
    idle_before = pool.get_idle_size()

    async def broken_commit(self):
        raise failure("cut off during COMMIT")

    monkeypatch.setattr(ReleasingPostgresTransaction, "commit", broken_commit)

    async def one_transaction():
        async with db.transaction():
            await db.engine.current_transaction.get().connection.execute("SELECT 1")

    with pytest.raises(failure):
        await asyncio.create_task(one_transaction())
    assert db.engine.current_transaction.get() is None
    assert pool.get_idle_size() == idle_before, "the connection never went back to the pool"
    monkeypatch.undo()
    async with asyncio.timeout(5):  # it used to wait for that connection for ever
        await db.close_loop_pool()
