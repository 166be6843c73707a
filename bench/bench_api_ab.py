"""Search API A/B: two or more checkouts or settings serve the very same searches, in alternating order.

``python -m bench.bench_api_ab VARIANT [VARIANT ...] [--rounds 5] [--requests 4000] [--clients 20]``

A variant is ``name=PATH`` (a checkout of this repository: its API is run) with optional
settings, ``name=PATH=POCKET_X:1;POCKET_Y:2``, as in ``bench.bench_indexer_ab``. For example,
the ES gate against none::

    python -m bench.bench_api_ab gate=. none=.=POCKET_ES_IN_FLIGHT:1000000

All the variants run at once, each its own API process, on the 100k real-title index of
``bench.bench_api`` (kept for the next run) and its real-query mix. After a warm-up, round after
round, each serves ``--requests`` searches to ``--clients`` closed-loop clients, the order
reversed every other round; printed per run: p50, p99, QPS, and the CPU per search of ES and
of that API process. Two separate ``bench_api`` runs differ by more than most changes on a
shared box; here the variants meet the same searches and the same ES, and a drift of the box
shows as a trend across rounds rather than as a difference between variants.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

import aiohttp

from bench.bench_api import api_search, open_catalog, query_mix, run_load, shops_of, start_api, url_of
from bench.bench_indexer import alternating, es_pid, proc_cpu
from bench.bench_indexer_ab import parse_variant


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("variants", nargs="+", help="name=PATH[=POCKET_X:value;...]")
    ap.add_argument("--products", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--requests", type=int, default=4000, help="searches per run")
    ap.add_argument("--clients", type=int, default=20, help="closed-loop clients")
    args = ap.parse_args()
    variants = [parse_variant(v) for v in args.variants]

    es, alias, events = open_catalog(args.products, keep_index=True)
    urls = [url_of(p) for p in query_mix(2000, shops_of(events))]
    procs: dict[str, tuple[Any, str]] = {}
    try:
        for name, path, env in variants:
            procs[name] = start_api(alias, cwd=path, env=env)

        async def run() -> None:
            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100)) as session:
                for _, base in procs.values():  # warm every API and ES the same way
                    await run_load(api_search(session, base, urls), len(urls), 4, len(urls))
                for rnd, name in alternating(list(procs), args.rounds):
                    proc, base = procs[name]
                    es0, api0 = proc_cpu(es_pid()), proc_cpu(proc.pid)
                    r = await run_load(api_search(session, base, urls), len(urls), args.clients, args.requests)
                    es_ms = (proc_cpu(es_pid()) - es0) * 1000 / r["n"]
                    api_ms = (proc_cpu(proc.pid) - api0) * 1000 / r["n"]
                    print(f"round {rnd}  {name:<10} p50 {r['p50']:6.1f}  p99 {r['p99']:6.1f} ms  "
                          f"QPS {r['qps']:5.0f}  ES CPU {es_ms:4.2f}  API CPU {api_ms:4.2f} ms a search", flush=True)

        asyncio.run(run())
    finally:
        for proc, _ in procs.values():
            proc.terminate()
            proc.wait(10)
        es.close()


if __name__ == "__main__":
    main()
