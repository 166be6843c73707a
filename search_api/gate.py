"""How many requests this API process has in Elasticsearch at once, and which goes next.

A search is one ES request most of the time, and two to four when it recovers from zero
results (the relaxed search after the strict one, a correction probe before it) or folds
identical listings. Sent straight to ES, each of those requests joins the back of ES's
search queue, so under load a recovering search waits in line two to four times: on the
real-query mix at 20 clients, a fifth of the searches took twice the median and the p99
was four times it.

The gate keeps at most ``limit`` first requests of this process in ES (about ES's search
thread count; more would only queue there) and queues the others here, in arrival order. A
request of a search that already had one answered does not wait at all: it goes in over the
limit. A started search then waits in line once, however many requests it needs, and frees
its client sooner. Nothing is dropped while the queue has room; past ``max_waiting``
waiting requests the API answers 503 with ``Retry-After`` rather than grow a queue no
shopper waits for.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any

from schemas.errors import BackendUnavailable

#: Whether the current request (one asyncio task) already had an ES request answered.
_STARTED: ContextVar[bool] = ContextVar("pocket_es_started", default=False)


def new_request() -> None:
    """Mark the start of an API request: its first ES request takes its turn in the queue."""
    _STARTED.set(False)


class Overloaded(BackendUnavailable):
    """More requests wait for Elasticsearch than the API queues; retry shortly."""


class EsGate:
    """At most ``limit`` first requests in ES, the rest waiting in arrival order; the next
    requests of a started search go in at once, over the limit if need be."""

    def __init__(self, limit: int, max_waiting: int) -> None:
        self.limit = limit
        self.max_waiting = max_waiting
        self.shed = 0  # requests refused past max_waiting
        self._active = 0
        self._waiters: deque[asyncio.Future[None]] = deque()

    @property
    def in_flight(self) -> int:
        return self._active

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold a place in ES for one request of the current API request."""
        await self._acquire(urgent=_STARTED.get())
        try:
            yield
        finally:
            self._release()
            _STARTED.set(True)

    async def _acquire(self, *, urgent: bool) -> None:
        if urgent or (self._active < self.limit and not self._waiters):
            self._active += 1
            return
        if len(self._waiters) >= self.max_waiting:
            self.shed += 1
            raise Overloaded("search is overloaded, retry shortly")
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(fut)
        try:
            await fut
        except asyncio.CancelledError:
            if fut.done() and not fut.cancelled():
                # Handed a place just as its request was cancelled (client gone): pass it on.
                self._release()
            else:
                self._waiters.remove(fut)
            raise

    def _release(self) -> None:
        self._active -= 1
        if self._waiters and self._active < self.limit:
            self._active += 1
            self._waiters.popleft().set_result(None)  # the place moves to the first waiter


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
