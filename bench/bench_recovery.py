"""What zero-result recovery costs ES, for the relaxed step's gate as it is and as it could be.

``python -m bench.bench_recovery [--products 100000] [--queries 2000] [--gate "1" --gate "1<30%"] [--keep-index]``

The catalog and the query mix are those of ``bench.bench_api``. For each gate (the
``minimum_should_match`` of the relaxed step's character match, ``search_api.text_query.
RELAXED_GATE_MSM``; by default the current one and ``"1"``, any one character), every search is
run once through ``SearchService`` with a recording client, and the recorded requests are
replayed straight to ES one search after another, the gates alternating by round. Printed per
gate: ES CPU per search and p50/p99 over all searches, and the same over the searches that
went through recovery (more than one request).
"""

from __future__ import annotations

import argparse
import asyncio

import search_api.text_query as text_query
from bench.bench_api import capture, compare_replays, finish, open_catalog, query_mix, shops_of


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--products", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=2000)
    ap.add_argument("--gate", action="append", default=[], help="a relaxed-step gate to measure (repeatable)")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--keep-index", action="store_true", help="keep (and reuse) the bench index")
    args = ap.parse_args()
    gates = list(dict.fromkeys(args.gate or [text_query.RELAXED_GATE_MSM, "1"]))
    es, alias, events = open_catalog(args.products, args.keep_index, request_timeout=300)
    current = text_query.RELAXED_GATE_MSM
    try:
        mix = query_mix(args.queries, shops_of(events))
        captured = {}
        for gate in gates:
            text_query.RELAXED_GATE_MSM = gate
            captured[repr(gate)] = asyncio.run(capture(alias, mix))
        text_query.RELAXED_GATE_MSM = current
        recovering = [i for i, reqs in enumerate(captured[repr(gates[0])]) if len(reqs) > 1]
        print(f"{len(recovering)} of {len(mix)} searches went through zero-result recovery")
        compare_replays(captured, args.rounds, {"recovering": recovering})
    finally:
        text_query.RELAXED_GATE_MSM = current
        finish(None, es, alias, args.keep_index)


if __name__ == "__main__":
    main()
