"""The RAG store's connection discipline: a pooled connection borrowed under a client-side
deadline, the error every store failure becomes, and a session advisory lock
(``targets.rag.store`` uses them)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, TypeVar

import psycopg
from psycopg_pool import AsyncConnectionPool

__all__ = ["AdvisoryLock", "Borrow", "StoreUnavailable", "within"]

_T = TypeVar("_T")


class StoreUnavailable(Exception):
    """The store did not answer in time or refused (down, partitioned, read-only, full)."""


class Borrow:
    """A pooled connection; a failure to get one (no node, pool timeout) is StoreUnavailable,
    and a connection that broke in use is discarded by the pool."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self._pool = pool
        self._connection: psycopg.AsyncConnection | None = None

    async def __aenter__(self) -> psycopg.AsyncConnection:
        try:
            self._connection = await self._pool.getconn()
        except Exception as exc:  # PoolTimeout, or the pool closed under us
            raise StoreUnavailable(f"no database connection ({self._pool.name}): "
                                   f"{type(exc).__name__}: {exc}") from exc
        return self._connection

    async def __aexit__(self, *exc: object) -> None:
        if self._connection is not None:
            if not self._connection.closed and self._connection.info.transaction_status:
                await self._connection.rollback()
            await self._pool.putconn(self._connection)


async def within(deadline_s: float, work: Awaitable[_T], what: str) -> _T:
    """``work`` under a client-side deadline. A frozen node keeps its TCP connections open and
    answers nothing, so the server's statement_timeout never fires; and cancelling a psycopg
    query makes psycopg send a cancel request to that same node and wait for it (measured:
    11 s for one question while both nodes were frozen). So the work is shielded, not
    cancelled: the caller gets StoreUnavailable at the deadline, and the abandoned query ends
    in the background when the node answers or its connection dies."""
    task = asyncio.ensure_future(work)
    task.add_done_callback(_consume)
    try:
        return await asyncio.wait_for(asyncio.shield(task), deadline_s)
    except TimeoutError:
        raise StoreUnavailable(f"{what}: no answer within {deadline_s:g} s") from None


def _consume(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()  # retrieved: an abandoned query's failure is not an unhandled error


class AdvisoryLock:
    def __init__(self, pool: AsyncConnectionPool, key: int) -> None:
        self._borrow = Borrow(pool)
        self._key = key
        self._connection: psycopg.AsyncConnection | None = None
        self._held = False

    async def __aenter__(self) -> bool:
        self._connection = connection = await self._borrow.__aenter__()
        row = await (await connection.execute("SELECT pg_try_advisory_lock(%s)",
                                              (self._key,))).fetchone()
        await connection.commit()
        self._held = bool(row and row[0])
        return self._held

    async def __aexit__(self, *exc: object) -> None:
        try:
            if self._held and self._connection is not None and not self._connection.closed:
                await self._connection.execute("SELECT pg_advisory_unlock(%s)", (self._key,))
                await self._connection.commit()
        finally:
            await self._borrow.__aexit__(None, None, None)
