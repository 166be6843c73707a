"""The merge rule of indexer/merge.py: order-independent, idempotent, deletes that stick."""

from __future__ import annotations

import itertools
import random

import pytest

from indexer.merge import merge_events
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
