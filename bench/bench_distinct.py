"""What folding identical listings costs ES: ``/search?distinct=true`` against the same searches unfolded.

``python -m bench.bench_distinct [--products 100000] [--queries 600] [--rounds 2] [--keep-index]``

The catalog and the query mix are those of ``bench.bench_api`` (real titles, real Taobao
queries, storefront parameters on a share of them). Every search is run once through
``SearchService`` with a recording client, unfolded and folded, and the recorded requests
(the search, zero-result recovery, and for a folded search the count of each hit's listings)
are then replayed straight to ES one after another, the two modes alternating by round.
Printed: ES CPU per search (``/proc``), and p50/p99 of the replayed requests.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import time
import urllib.request

from elasticsearch import Elasticsearch

from bench.bench_api import ES_URL, capture, catalog_events, ensure_catalog, finish, query_mix, shops_of
from bench.bench_indexer import es_pid, proc_cpu


def replay(captured: list[list[tuple[str, bytes]]]) -> tuple[float, list[float]]:
    """ES CPU seconds and the latency (ms) of each search's requests, sent one after another."""
    cpu0 = proc_cpu(es_pid())
    lat = []
    for reqs in captured:
        t0 = time.perf_counter()
        for path, body in reqs:
            ctype = "application/x-ndjson" if path.endswith("_msearch") else "application/json"
            with urllib.request.urlopen(urllib.request.Request(ES_URL + path, data=body,
                                                               headers={"content-type": ctype})) as r:
                r.read()
        lat.append((time.perf_counter() - t0) * 1000)
    return proc_cpu(es_pid()) - cpu0, sorted(lat)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--products", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=600)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--keep-index", action="store_true", help="keep (and reuse) the bench index")
    args = ap.parse_args()
    es = Elasticsearch(ES_URL, request_timeout=300)
    alias = f"bench-api-real-{args.products}"
    events = catalog_events("real", args.products)
    ensure_catalog(es, alias, events, args.keep_index)
    try:
        mix = query_mix(args.queries, shops_of(events))
        modes = {"unfolded": asyncio.run(capture(alias, mix)),
                 "distinct": asyncio.run(capture(alias, [dataclasses.replace(p, distinct=True, search_after=None)
                                                         for p in mix]))}
        for r in range(args.rounds):
            for name in (list(modes) if r % 2 == 0 else list(modes)[::-1]):
                cpu, lat = replay(modes[name])
                print(f"round {r}  {name:9s} ES CPU {cpu / len(lat) * 1000:5.2f} ms a search   "
                      f"p50 {lat[len(lat) // 2]:5.2f} ms   p99 {lat[int(len(lat) * 0.99)]:6.2f} ms", flush=True)
    finally:
        finish(None, es, alias, args.keep_index)


if __name__ == "__main__":
    main()
