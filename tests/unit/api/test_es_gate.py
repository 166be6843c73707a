"""The ES gate of the search API (search_api/gate.py): who waits, who goes first, and that no
place leaks when a waiting request is cancelled. Pure asyncio, no services."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import pytest

from search_api.gate import LIFO_AFTER_S, EsGate, GatedEs, Overloaded, new_request


class _Es:
    """Stands in for the ES client: each call waits until the test releases it."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.release: dict[str, asyncio.Event] = {}

    async def search(self, *, tag: str) -> str:
        self.calls.append(tag)
        ev = self.release.setdefault(tag, asyncio.Event())
        await ev.wait()
        return tag

    def go(self, *tags: str) -> None:
        """Let the calls with these tags answer (now, or as soon as they are made)."""
        for tag in tags:
            self.release.setdefault(tag, asyncio.Event()).set()


def _run(main: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(main(), 5))


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def _setup(max_waiting: int = 10, max_wait_s: float | None = None
           ) -> tuple[_Es, EsGate, Callable[..., Coroutine[Any, Any, str]]]:
    """A one-place gate over a stand-in client, and a search: one API request that sends the
    ES requests named ``tags`` one after the other, answering with the last."""
    es, g = _Es(), EsGate(limit=1, max_waiting=max_waiting, max_wait_s=max_wait_s)
    client = GatedEs(es, g)

    async def search(*tags: str) -> str:
        new_request()
        for tag in tags:
            out = str(await client.search(tag=tag))
        return out

    return es, g, search


def test_first_requests_wait_in_arrival_order_beyond_the_limit() -> None:
    async def main() -> None:
        es, gate, search = _setup()

        tasks = [asyncio.create_task(search(t)) for t in "abc"]
        await _settle()
        assert es.calls == ["a"] and gate.in_flight == 1 and gate.waiting == 2
        es.go(*"abc")
        assert [await t for t in tasks] == ["a", "b", "c"]
        assert es.calls == ["a", "b", "c"] and gate.in_flight == 0

    _run(main)


def test_a_started_search_goes_before_new_ones() -> None:
    async def main() -> None:
        es, gate, search = _setup()
        # A strict search that found nothing, then the relaxed one.
        rec = asyncio.create_task(search("strict", "relaxed"))
        await _settle()
        others = [asyncio.create_task(search(t)) for t in ("x", "y")]
        await _settle()
        assert es.calls == ["strict"] and gate.waiting == 2
        es.go("strict")
        await _settle()
        # The freed place went to x, the first waiter; the follow-up did not queue behind x
        # and y, which arrived before it: it went in over the limit. y still waits.
        assert sorted(es.calls) == ["relaxed", "strict", "x"] and gate.in_flight == 2 and gate.waiting == 1
        es.go("relaxed", "x", "y")
        await asyncio.gather(rec, *others)
        assert es.calls[-1] == "y" and gate.in_flight == 0

    _run(main)


def test_past_max_waiting_the_api_sheds_load_with_a_retriable_error() -> None:
    async def main() -> None:
        es, gate, search = _setup(max_waiting=1)

        first = asyncio.create_task(search("a"))
        second = asyncio.create_task(search("b"))
        await _settle()
        with pytest.raises(Overloaded) as err:
            await search("c")
        assert err.value.status == 503 and err.value.retriable
        es.go("a", "b")
        assert await first == "a" and await second == "b"
        assert es.calls == ["a", "b"] and gate.in_flight == 0

    _run(main)


def test_a_cancelled_waiter_leaks_no_place() -> None:
    async def main() -> None:
        es, gate, search = _setup()

        first = asyncio.create_task(search("a"))
        gone = asyncio.create_task(search("gone"))  # its client hangs up while it waits
        last = asyncio.create_task(search("c"))
        await _settle()
        gone.cancel()
        await _settle()
        es.go("a", "c")
        assert await first == "a" and await last == "c"
        assert gone.cancelled() and "gone" not in es.calls
        assert gate.in_flight == 0 and gate.waiting == 0

    _run(main)


def test_a_place_handed_to_a_request_cancelled_at_that_moment_passes_on() -> None:
    async def main() -> None:
        gate = EsGate(limit=1, max_waiting=10)
        order: list[str] = []

        async def hold(tag: str, until: asyncio.Event) -> None:
            new_request()
            async with gate.slot():
                order.append(tag)
                await until.wait()

        done_a, done_c = asyncio.Event(), asyncio.Event()
        a = asyncio.create_task(hold("a", done_a))
        b = asyncio.create_task(hold("b", asyncio.Event()))
        c = asyncio.create_task(hold("c", done_c))
        await _settle()
        done_a.set()
        await asyncio.sleep(0)  # a releases: b is handed the place ...
        b.cancel()  # ... and is cancelled before it runs
        await _settle()
        assert order == ["a", "c"] and gate.in_flight == 1
        done_c.set()
        await asyncio.gather(a, c)
        assert b.cancelled() and gate.in_flight == 0

    _run(main)


def test_a_request_that_waited_too_long_is_refused_and_leaves_the_queue() -> None:
    async def main() -> None:
        es, gate, search = _setup(max_wait_s=0.05)

        slow = asyncio.create_task(search("slow"))  # holds the one place past the others' patience
        await _settle()
        with pytest.raises(Overloaded) as err:
            await search("late")
        assert "waited 0.05 s" in err.value.detail and err.value.status == 503
        assert gate.shed == 1 and gate.waiting == 0 and "late" not in es.calls
        es.go("slow", "next")
        assert await slow == "slow"
        assert await search("next") == "next" and gate.in_flight == 0

    _run(main)


def test_past_a_burst_the_newest_waiter_goes_first() -> None:
    """Adaptive LIFO: once the oldest has waited LIFO_AFTER_S, the queue is overload, not a
    burst, and the newest search is served while its shopper still waits."""
    async def main() -> None:
        es, gate, search = _setup()

        tasks = [asyncio.create_task(search("busy")), asyncio.create_task(search("old"))]
        await asyncio.sleep(LIFO_AFTER_S + 0.02)
        tasks.append(asyncio.create_task(search("new")))
        await _settle()
        es.go("busy")
        await _settle()
        assert es.calls == ["busy", "new"]
        es.go("old", "new")
        await asyncio.gather(*tasks)
        assert es.calls == ["busy", "new", "old"] and gate.in_flight == 0

    _run(main)
