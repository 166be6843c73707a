"""Search under overload: the API with its ES gate against the same API without one.

``python -m bench.bench_overload [--products 100000] [--seconds 12] [--loads 0.8,1.2,1.6]``

A closed-loop benchmark (``bench_api``) never offers more than the box can serve: each client
waits for its answer. Shoppers do not. Here searches arrive on their own clock (Poisson, open
loop) at a multiple of the capacity measured first (20 closed-loop clients), from the real-query
mix of ``bench_api`` on its 100k real-title index, to two API processes in alternating runs:

* **gate**: the defaults. At most ``POCKET_ES_IN_FLIGHT`` first requests in ES, the others
  waiting in the API, newest first once the oldest has waited half a second; a request that
  waited ``POCKET_ES_MAX_WAIT_MS`` (or would be the ``POCKET_ES_MAX_WAITING``-th in line) is
  answered 503 with ``Retry-After`` (search_api/gate.py).
* **no gate**: the same code with those limits out of reach, so every request goes to ES and
  queues there, as an API without admission control does.

Printed per load: searches answered 200 per second (goodput), their p50/p99 latency, the
share refused with 503, and the share that took over 1 s or failed on the client's 10 s
timeout. Below capacity the two should read the same; above it, the gate's answers should stay
fast while the other's latency grows with the queue. The load generator shares the two cores
(an open loop costs it more CPU than 20 clients do), so the API saturates below the
closed-loop capacity: read 1.2x as "past saturation".
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from typing import Any

import aiohttp

from bench.bench_api import api_search, finish, open_catalog, query_mix, run_load, shops_of, start_api, url_of
from bench.bench_indexer import pct

NO_GATE = {"POCKET_ES_IN_FLIGHT": "1000000", "POCKET_ES_MAX_WAITING": "1000000",
           "POCKET_ES_MAX_WAIT_MS": "1000000000"}
CLIENT_TIMEOUT_S = 10.0


async def open_loop(session: aiohttp.ClientSession, base: str, urls: list[str], rate: float,
                    seconds: float, seed: int) -> dict[str, float]:
    """Send searches at Poisson arrivals of ``rate`` a second for ``seconds``; wait for every answer."""
    rng = random.Random(seed)
    ok: list[float] = []
    counts = {"503": 0, "timeout": 0, "other": 0}

    async def one(url: str) -> None:
        t = time.perf_counter()
        try:
            async with session.get(base + url, timeout=aiohttp.ClientTimeout(total=CLIENT_TIMEOUT_S)) as r:
                await r.read()
                if r.status == 200:
                    ok.append((time.perf_counter() - t) * 1000)
                else:
                    counts["503" if r.status == 503 else "other"] += 1
        except (TimeoutError, aiohttp.ClientError):
            counts["timeout"] += 1

    tasks = []
    t0 = time.perf_counter()
    next_at = 0.0
    while next_at < seconds:
        delay = t0 + next_at - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(urls[rng.randrange(len(urls))])))
        next_at += rng.expovariate(rate)
    await asyncio.gather(*tasks)
    wall = time.perf_counter() - t0
    sent = len(tasks)
    ok.sort()
    return {"sent": sent, "offered": sent / seconds, "goodput": len(ok) / wall,
            "p50": pct(ok, 50) if ok else float("nan"), "p99": pct(ok, 99) if ok else float("nan"),
            "refused": counts["503"] / sent, "slow": (sum(1 for x in ok if x > 1000) + counts["timeout"]) / sent,
            "timeouts": counts["timeout"], "other": counts["other"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--products", type=int, default=100_000)
    ap.add_argument("--seconds", type=float, default=12.0, help="length of each open-loop run")
    ap.add_argument("--loads", default="0.8,1.2,1.6", help="offered load as multiples of the capacity")
    ap.add_argument("--keep-index", action="store_true", help="keep (and reuse) the bench index")
    args = ap.parse_args()

    es, alias, events = open_catalog(args.products, args.keep_index)
    procs: dict[str, Any] = {}
    try:
        urls = [url_of(p) for p in query_mix(2000, shops_of(events))]
        procs["gate"] = start_api(alias)
        procs["no gate"] = start_api(alias, env=NO_GATE)

        async def run() -> list[tuple[float, str, dict[str, float]]]:
            conn = aiohttp.TCPConnector(limit=0)  # open loop: no client-side queue
            async with aiohttp.ClientSession(connector=conn) as session:
                async def closed(base: str) -> dict[str, float]:
                    return await run_load(api_search(session, base, urls), len(urls), 20, 3000)

                for _, base in procs.values():  # warm both
                    await closed(base)
                capacity = (await closed(procs["gate"][1]))["qps"]
                print(f"capacity (20 closed-loop clients, gate): {capacity:.0f} searches/s", flush=True)
                out = []
                for i, load in enumerate(float(x) for x in args.loads.split(",")):
                    names = list(procs) if i % 2 == 0 else list(procs)[::-1]
                    for name in names:
                        r = await open_loop(session, procs[name][1], urls, load * capacity, args.seconds, seed=i)
                        out.append((load, name, r))
                        print(f"  {load:.1f}x {name:8} offered {r['offered']:5.0f}/s  goodput {r['goodput']:5.0f}/s  "
                              f"p50 {r['p50']:7.1f}  p99 {r['p99']:7.1f} ms  refused {r['refused']:6.1%}  "
                              f"over 1 s or timed out {r['slow']:6.1%}", flush=True)
                        await asyncio.sleep(3)  # let ES drain what a run left queued
                return out

        results = asyncio.run(run())
    finally:
        for proc, _ in procs.values():
            proc.terminate()
            proc.wait(10)
        finish(None, es, alias, args.keep_index)

    print(f"\n{'load':>5} {'API':8} {'offered/s':>9} {'goodput/s':>9} {'p50 ms':>8} {'p99 ms':>8} "
          f"{'refused':>8} {'>1 s':>7} {'timeouts':>8}")
    for load, name, r in results:
        print(f"{load:5.1f} {name:8} {r['offered']:9.0f} {r['goodput']:9.0f} {r['p50']:8.1f} {r['p99']:8.1f} "
              f"{r['refused']:8.1%} {r['slow']:7.1%} {r['timeouts']:8.0f}")


if __name__ == "__main__":
    main()
