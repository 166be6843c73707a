"""How many requests this API process has in Elasticsearch at once, and which goes next.

A search is one ES request most of the time, and two to four when it recovers from zero
results (the relaxed search after the strict one, a correction probe before it) or folds
identical listings. Sent straight to ES, each of those requests joins the back of ES's
search queue, so under load a recovering search waits in line two to four times: on the
real-query mix at 20 clients, a fifth of the searches took twice the median and the p99
was four times it.

The gate keeps at most ``limit`` requests of this process in ES (about ES's search thread
count; the rest would only queue there) and queues the others here, where the order can
be chosen: a request of a search that already had one answered goes before any search's
first request. A started search then waits in line once, however many requests it needs,
and it frees its client sooner. Work is never dropped while the queue has room; past
``max_waiting`` waiting requests the API answers 503 with ``Retry-After`` instead of
growing a queue no client will wait for.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any

from schemas.errors import BackendUnavailable

#: Whether the current request (one asyncio task) already had an ES request answered.
_STARTED: ContextVar[bool] = ContextVar("pocket_es_started", default=False)
_URGENT, _FIRST = 0, 1


def new_request() -> None:
    """Mark the start of an API request: its first ES request queues behind started searches."""
    _STARTED.set(False)


class Overloaded(BackendUnavailable):
    """More requests wait for Elasticsearch than the API queues; retry shortly."""


class EsGate:
    """A priority semaphore: at most ``limit`` holders; waiters ordered by (urgency, arrival)."""

    def __init__(self, limit: int, max_waiting: int) -> None:
        self.limit = limit
        self.max_waiting = max_waiting
        self._active = 0
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    @property
    def in_flight(self) -> int:
        return self._active

    @property
    def waiting(self) -> int:
        return sum(1 for _, _, f in self._waiters if not f.done())

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one of the ``limit`` places for one ES request of the current API request."""
        urgent = _STARTED.get()
        await self._acquire(_URGENT if urgent else _FIRST)
        try:
            yield
        finally:
            self._release()
            _STARTED.set(True)

    async def _acquire(self, priority: int) -> None:
        if priority == _URGENT or (self._active < self.limit and not self._waiters):
            self._active += 1
            return
        if len(self._waiters) >= self.max_waiting:
            raise Overloaded("search is overloaded, retry shortly")
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (priority, next(self._seq), fut))
        try:
            await fut
        except asyncio.CancelledError:
            # Handed a place just as the request was cancelled (client gone, timeout): pass
            # it on. A waiter cancelled before that stays in the heap, done, and is skipped.
            if fut.done() and not fut.cancelled():
                self._release()
            raise

    def _release(self) -> None:
        self._active -= 1
        while self._waiters and self._active < self.limit:
            _, _, fut = heapq.heappop(self._waiters)
            if not fut.done():
                self._active += 1
                fut.set_result(None)


class GatedEs:
    """The async ES client with its search-path calls held to the gate; everything else passes."""

    def __init__(self, es: Any, gate: EsGate) -> None:
        self.es = es
        self.gate = gate

    async def search(self, **kw: Any) -> Any:
        async with self.gate.slot():
            return await self.es.search(**kw)

    async def msearch(self, **kw: Any) -> Any:
        async with self.gate.slot():
            return await self.es.msearch(**kw)

    async def get(self, **kw: Any) -> Any:
        async with self.gate.slot():
            return await self.es.get(**kw)

    def options(self, **kw: Any) -> GatedEs:
        return GatedEs(self.es.options(**kw), self.gate)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.es, name)
