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

from bench.bench_api import capture, compare_replays, finish, open_catalog, query_mix, shops_of


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--products", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=600)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--keep-index", action="store_true", help="keep (and reuse) the bench index")
    args = ap.parse_args()
    es, alias, events = open_catalog(args.products, args.keep_index, request_timeout=300)
    try:
        mix = query_mix(args.queries, shops_of(events))
        folded = [dataclasses.replace(p, distinct=True, search_after=None) for p in mix]
        compare_replays({"unfolded": asyncio.run(capture(alias, mix)),
                         "distinct": asyncio.run(capture(alias, folded))}, args.rounds)
    finally:
        finish(None, es, alias, args.keep_index)


if __name__ == "__main__":
    main()
