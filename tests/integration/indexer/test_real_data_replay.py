"""Real price and sales changes: ten daily snapshots of 1.2k Taobao beauty products (Double 11, 2016).

Data: ``../shared/data/events/taobao_beauty_daily.jsonl`` (see its README; never committed).
Real fields: item id, title, shop, price, sale_count, and the day of each snapshot. Filled
here: shop ids, category (``美妆``/shop), stock and status (fixed), and the version: the day index
(1–10) times 100 plus the row's rank within that day, because 19 products appear twice on one
day and the later row is the later snapshot. A product's first row is an upsert, every later
row a patch of ``price`` and ``sales``.
"""

from __future__ import annotations

from collections import Counter

import orjson
import pytest
from conftest_paths import SHARED_DATA
from harness import indexer_thread, produce, wait_caught_up

DATA = SHARED_DATA / "events" / "taobao_beauty_daily.jsonl"

pytestmark = pytest.mark.slow


def beauty_events() -> tuple[list[dict], dict[str, dict]]:
    rows = [orjson.loads(line) for line in DATA.read_bytes().splitlines() if line.strip()]
    days = {d: i + 1 for i, d in enumerate(sorted({r["date"] for r in rows}))}
    shops = {s: f"tbshop{i}" for i, s in enumerate(sorted({r["shop"] for r in rows}))}
    seen: Counter[tuple[str, str]] = Counter()
    events, last = [], {}
    for n, r in enumerate(rows):
        pid, key = r["item_id"], (r["item_id"], r["date"])
        seen[key] += 1
        version = days[r["date"]] * 100 + seen[key]
        base = {"event_id": f"tb-{n}", "product_id": pid, "shop_id": shops[r["shop"]], "version": version,
                "occurred_at": f"{r['date']}T00:00:00Z"}
        if pid not in last:
            events.append(base | {"type": "upsert", "product": {
                "title": r["title"], "brand": r["shop"], "category": ["美妆", r["shop"]], "price": r["price"],
                "sales": r["sale_count"], "stock": 100, "status": "on_shelf", "shop_name": r["shop"]}})
        else:
            events.append(base | {"type": "patch", "patch": {"price": r["price"], "sales": r["sale_count"]}})
        last[pid] = r
    return events, last


@pytest.mark.skipif(not DATA.exists(), reason=f"{DATA} not present")
def test_taobao_beauty_daily_replay_ends_at_last_snapshot(es, kafka_bootstrap, topics, index_alias, group,
                                                          make_settings):
    events, last = beauty_events()
    assert len(last) > 1000 and len(events) > 8000
    with indexer_thread(make_settings()):
        produce(kafka_bootstrap, topics["topic"], events)
        wait_caught_up(kafka_bootstrap, topics["topic"], group, es=es, index=index_alias)
    docs = es.mget(index=index_alias, ids=list(last), source_includes=["price", "sales", "title", "visible"])
    wrong = []
    for d in docs["docs"]:
        want = last[d["_id"]]
        got = d.get("_source") or {}
        if (got.get("price"), got.get("sales"), got.get("visible")) != (want["price"], want["sale_count"], True):
            wrong.append((d["_id"], got, want))
    assert not wrong, f"{len(wrong)} products differ from their last snapshot, e.g. {wrong[:3]}"
