"""The merge rule of indexer/merge.py: order-independent, idempotent, deletes that stick."""

from __future__ import annotations

import itertools
import random
import re
from datetime import UTC, datetime

import pytest

from indexer.merge import merge_events, product_values
from schemas.events import EVENT_ADAPTER


def ev(kind: str, version: int, pid: str = "p1", **payload):
    body = {"event_id": f"{pid}-{kind}-{version}", "type": kind, "product_id": pid, "shop_id": "s1",
            "version": version, "occurred_at": "2024-11-11T00:00:00Z"}
    if kind == "upsert":
        body["product"] = {"title": "华为 手机", "category": ["手机数码", "手机"], "price": 100.0} | payload
    elif kind == "patch":
        body["patch"] = payload
    return EVENT_ADAPTER.validate_python(body)


def fold(events, start=None):
    """Apply ``events`` one batch each, as a consumer receiving them one by one would."""
    state = start
    for e in events:
        res = merge_events(state, [e])
        if res.changed:
            state = res.source
    return state


def visible_fields(state):
    """What a shopper can see: nothing, or the product's fields (an invisible state's leftovers do not count)."""
    if not state or not state.get("visible"):
        return None
    keys = ("title", "price", "stock", "status", "visible", "searchable", "version")
    return {k: state.get(k) for k in keys}


def test_upsert_then_newer_patch():
    s = fold([ev("upsert", 1, price=10.0), ev("patch", 2, price=8.5)])
    assert s["price"] == 8.5 and s["visible"] and s["searchable"]


def test_stale_upsert_is_a_no_op():
    s = fold([ev("upsert", 5, price=10.0)])
    res = merge_events(s, [ev("upsert", 3, price=99.0)])
    assert not res.changed and res.stale and res.source["price"] == 10.0


def test_replayed_event_is_stale():
    e = ev("patch", 2, price=1.0)
    s = fold([ev("upsert", 1), e])
    assert not merge_events(s, [e]).changed


def test_late_older_patch_applies_only_untouched_fields():
    s = fold([ev("upsert", 1, price=10.0, stock=1), ev("patch", 3, price=30.0), ev("patch", 2, price=20.0, stock=7)])
    assert s["price"] == 30.0  # never undone by the older patch
    assert s["stock"] == 7  # no newer write touched it


def test_delete_sticks_against_older_upsert_any_time_later():
    s = fold([ev("upsert", 1), ev("delete", 5), ev("upsert", 3), ev("patch", 4, price=1.0)])
    assert s["visible"] is False and s["searchable"] is False
    assert s["meta"]["v_delete"] == 5


def test_newer_upsert_after_delete_resurrects():
    s = fold([ev("upsert", 1), ev("delete", 2), ev("upsert", 3, title="小米 手机")])
    assert s["visible"] and s["title"] == "小米 手机"


def test_off_shelf_is_visible_not_searchable():
    s = fold([ev("upsert", 1), ev("patch", 2, status="off_shelf")])
    assert s["visible"] and not s["searchable"]


def test_patch_before_its_product_is_invisible():
    s = fold([ev("patch", 4, price=5.0)])
    assert not s["visible"] and s["price"] == 5.0
    s = fold([ev("upsert", 2, price=9.0)], s)  # the older upsert arrives: the newer price stays
    assert s["visible"] and s["price"] == 5.0


def test_input_state_not_mutated():
    s = fold([ev("upsert", 1, price=10.0)])
    before = repr(s)
    merge_events(s, [ev("patch", 2, price=1.0)])
    assert repr(s) == before


@pytest.mark.parametrize("seed", range(20))
def test_any_arrival_order_and_batching_gives_the_same_state(seed):
    rng = random.Random(seed)
    events, v = [], 0
    for _ in range(8):
        v += rng.randint(1, 2)
        kind = rng.choice(["upsert", "patch", "patch", "delete"])
        payload = {"price": float(rng.randint(1, 99))} if kind != "delete" else {}
        if kind == "patch" and rng.random() < 0.5:
            payload["stock"] = rng.randint(0, 9)
        events.append(ev(kind, v, **payload))
    in_order = visible_fields(fold(events))
    for _ in range(10):
        shuffled = events[:]
        rng.shuffle(shuffled)
        cut = rng.randint(0, len(shuffled))
        batched = merge_events(None, shuffled[:cut]).source if cut else None
        state = batched if cut and merge_events(None, shuffled[:cut]).changed else None
        state = fold(shuffled[cut:], state)
        assert visible_fields(state) == in_order, shuffled


def test_every_permutation_of_a_small_history():
    events = [ev("upsert", 1, price=1.0), ev("patch", 2, price=2.0), ev("delete", 3), ev("upsert", 4, price=4.0),
              ev("patch", 5, stock=5)]
    want = visible_fields(fold(events))
    for perm in itertools.permutations(events):
        assert visible_fields(fold(perm)) == want


def test_upsert_with_the_same_text_does_not_ask_for_analysis_again():
    s = fold([ev("upsert", 1, price=10.0)])
    assert not merge_events(s, [ev("upsert", 2, price=9.0)]).text_changed
    assert merge_events(s, [ev("upsert", 2, title="小米 手机")]).text_changed
    assert merge_events(None, [ev("upsert", 1)]).text_changed  # a new product is always analysed


@pytest.mark.parametrize("extra", [
    {},
    {"status": "off_shelf", "brand": "华为", "attributes": {"颜色": "黑色"}, "rating": 4.5, "shop_score": 4.8},
    {"status": "banned", "created_at": "2024-11-11T08:00:00+08:00", "updated_at": "2024-11-12T00:00:00Z"},
    {"price": 12, "stock": 3, "image": "https://img/x.jpg", "shop_name": "旗舰店", "description": "描述"},
])
def test_product_values_are_the_json_dump(extra):
    """The merge's cheap copy of an upsert's product gives exactly pydantic's JSON dump."""
    product = ev("upsert", 1, **extra).product
    assert product_values(product) == product.model_dump(mode="json")
    assert list(product_values(product)) == list(product.model_dump(mode="json"))


def test_a_new_product_takes_every_field_of_its_first_event():
    up = merge_events(None, [ev("upsert", 3, stock=2)]).source
    assert up["meta"] == {"v_upsert": 3, "v_delete": 0, "fv": dict.fromkeys([*up["meta"]["fv"]], 3)}
    assert set(up["meta"]["fv"]) == {*ev("upsert", 3).product.model_dump(), "shop_id"}
    assert up["stock"] == 2 and up["in_stock"] and up["visible"] and up["version"] == 3
    patched = merge_events(None, [ev("patch", 4, price=5.0)])
    assert patched.changed and not patched.text_changed
    assert patched.source["meta"]["fv"] == {"price": 4} and not patched.source["visible"]


def test_indexed_at_is_now_in_utc_to_the_millisecond():
    stamp = merge_events(None, [ev("upsert", 1)]).source["indexed_at"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", stamp)
    assert abs((datetime.now(UTC) - datetime.fromisoformat(stamp)).total_seconds()) < 5
