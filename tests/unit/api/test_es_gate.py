"""The ES gate of the search API (search_api/gate.py): who waits, who goes first, and that no
place leaks when a waiting request is cancelled. Pure asyncio, no services."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from search_api.gate import EsGate, GatedEs, Overloaded, new_request


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


def test_first_requests_wait_in_arrival_order_beyond_the_limit() -> None:
    async def main() -> None:
        es, gate = _Es(), EsGate(limit=1, max_waiting=10)
        client = GatedEs(es, gate)

        async def search(tag: str) -> str:
            new_request()
            return str(await client.search(tag=tag))

        tasks = [asyncio.create_task(search(t)) for t in "abc"]
        await _settle()
        assert es.calls == ["a"] and gate.in_flight == 1 and gate.waiting == 2
        es.go(*"abc")
        assert [await t for t in tasks] == ["a", "b", "c"]
        assert es.calls == ["a", "b", "c"] and gate.in_flight == 0

    _run(main)


def test_a_started_search_goes_before_new_ones() -> None:
    async def main() -> None:
        es, gate = _Es(), EsGate(limit=1, max_waiting=10)
        client = GatedEs(es, gate)

        async def recovering() -> None:  # a strict search that found nothing, then the relaxed one
            new_request()
            await client.search(tag="strict")
            await client.search(tag="relaxed")

        async def plain(tag: str) -> None:
            new_request()
            await client.search(tag=tag)

        rec = asyncio.create_task(recovering())
        await _settle()
        others = [asyncio.create_task(plain(t)) for t in ("x", "y")]
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
        es, gate = _Es(), EsGate(limit=1, max_waiting=1)
        client = GatedEs(es, gate)

        async def search(tag: str) -> str:
            new_request()
            return str(await client.search(tag=tag))

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
        es, gate = _Es(), EsGate(limit=1, max_waiting=10)
        client = GatedEs(es, gate)

        async def search(tag: str) -> str:
            new_request()
            return str(await client.search(tag=tag))

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
