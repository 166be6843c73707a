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
its client sooner. Under overload the queue is bounded twice: a request that would be the
``max_waiting``-th in line, or that waited ``max_wait_s`` without a place, is answered 503
with ``Retry-After`` rather than late; and once the oldest has waited ``LIFO_AFTER_S``, the
newest goes first (adaptive LIFO). The searches that are served then stay fast, instead of
every search waiting behind a queue that only grows (``bench/bench_overload.py``).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any

from schemas.errors import BackendUnavailable

#: How long the oldest waiter may have waited before the newest is served first: longer than
#: the bursts of a load ES can take (a p99 of 70-150 ms near capacity), shorter than max_wait_s.
LIFO_AFTER_S = 0.5
#: Whether the current request (one asyncio task) already had an ES request answered.
_STARTED: ContextVar[bool] = ContextVar("pocket_es_started", default=False)


def new_request() -> None:
    """Mark the start of an API request: its first ES request takes its turn in the queue."""
    _STARTED.set(False)


class Overloaded(BackendUnavailable):
    """The API's queue for Elasticsearch is full, or a search waited in it too long; retry shortly."""


class EsGate:
    """At most ``limit`` first requests in ES, the rest waiting in arrival order; the next
    requests of a started search go in at once, over the limit if need be."""

    def __init__(self, limit: int, max_waiting: int, max_wait_s: float | None = None) -> None:
        self.limit = limit
        self.max_waiting = max_waiting
        self.max_wait_s = max_wait_s
        self.shed = 0  # requests refused: the queue full, or waited past max_wait_s
        self._active = 0
        # (when it began to wait, its place-to-be), oldest first
        self._waiters: deque[tuple[float, asyncio.Future[None]]] = deque()

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
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()
        entry = (loop.time(), fut)
        self._waiters.append(entry)
        try:
            # shield: a wait running out must not cancel a place handed over at that moment.
            await asyncio.wait_for(asyncio.shield(fut), self.max_wait_s)
        except TimeoutError:
            if fut.done():
                return  # handed a place just as the wait ran out: take it
            self._waiters.remove(entry)
            self.shed += 1
            raise Overloaded(f"search is overloaded (waited {self.max_wait_s:g} s), retry shortly") from None
        except asyncio.CancelledError:
            if fut.done():
                self._release()  # handed a place just as its request was cancelled (client gone): pass it on
            else:
                self._waiters.remove(entry)
            raise

    def _release(self) -> None:
        self._active -= 1
        if self._waiters and self._active < self.limit:
            self._active += 1
            # First come, first served, until the oldest has waited LIFO_AFTER_S: then the queue
            # is not a burst but more than ES can take, and the newest goes first (adaptive
            # LIFO). It is served while its shopper still waits; the oldest, whose shopper may
            # be gone, run out of time and get their 503. Served searches stay fast instead
            # of all waiting the whole max_wait_s.
            oldest_since, _ = self._waiters[0]
            overloaded = asyncio.get_running_loop().time() - oldest_since > LIFO_AFTER_S
            _, fut = self._waiters.pop() if overloaded else self._waiters.popleft()
            fut.set_result(None)  # the place moves to that waiter


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
