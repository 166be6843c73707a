"""decode_event: bytes to a validated event, or InvalidEvent with the dead-letter reason."""

from __future__ import annotations

import orjson
import pytest

from indexer.decode import REASONS, decode_event
from schemas.errors import InvalidEvent
from schemas.events import DeleteEvent, PatchEvent, UpsertEvent

BASE = {"event_id": "e1", "product_id": "p1", "shop_id": "s1", "version": 3,
        "occurred_at": "2024-11-11T00:00:00Z"}
UPSERT = BASE | {"type": "upsert", "product": {"title": "华为 Mate 60 手机", "category": ["手机数码", "手机"],
                                                "price": 5999.0, "attributes": {"颜色": "黑色"}}}


def reason_of(value: bytes | None, **kw) -> str:
    with pytest.raises(InvalidEvent) as err:
        decode_event(value, **kw)
    assert err.value.reason in REASONS
    return err.value.reason


def test_valid_events_of_each_type():
    assert isinstance(decode_event(orjson.dumps(UPSERT)), UpsertEvent)
    assert decode_event(orjson.dumps(UPSERT | {"product": UPSERT["product"] | {"shop_score": 4.8}})
                        ).product.shop_score == 4.8  # type: ignore[union-attr]
    assert isinstance(decode_event(orjson.dumps(BASE | {"type": "patch", "patch": {"price": 1}})), PatchEvent)
    assert isinstance(decode_event(orjson.dumps(BASE | {"type": "delete"})), DeleteEvent)


@pytest.mark.parametrize("value", [b"{", b"not json", b"\xff\xfe", b"", None, b"[1, 2]", b'"upsert"'])
def test_invalid_json(value):
    assert reason_of(value) == "invalid_json"


@pytest.mark.parametrize("kind", ["rename", "UPSERT", 7, None])
def test_unknown_type(kind):
    assert reason_of(orjson.dumps(UPSERT | {"type": kind})) == "unknown_type"


@pytest.mark.parametrize("broken", [
    UPSERT | {"product": UPSERT["product"] | {"attributes": {f"k{i}": "v" for i in range(60)}}},  # > 50 keys
    UPSERT | {"version": 0},
    UPSERT | {"product_id": "有空格 的id"},
    UPSERT | {"extra": 1},  # extra="forbid"
    BASE | {"type": "patch", "patch": {}},  # a patch must set something
    BASE | {"type": "patch", "patch": {"price": None}},  # cannot clear a required field
    # a patch's attributes have the upsert's bounds: count, name and value length
    BASE | {"type": "patch", "patch": {"attributes": {f"k{i}": "v" for i in range(60)}}},
    BASE | {"type": "patch", "patch": {"attributes": {"颜色" * 20: "黑色"}}},
    BASE | {"type": "patch", "patch": {"attributes": {"颜色": "黑" * 101}}},
    {k: v for k, v in UPSERT.items() if k != "type"},
    UPSERT | {"product": UPSERT["product"] | {"shop_score": 5.1}},  # a shop score is 0-5
    BASE | {"type": "patch", "patch": {"shop_score": -1}},
])
def test_schema_violation(broken):
    assert reason_of(orjson.dumps(broken)) == "schema_violation"


def test_oversized_before_parsing():
    big = orjson.dumps(UPSERT | {"padding": "x" * 2000})
    assert reason_of(big, max_bytes=1024) == "oversized"
    assert reason_of(b"{" * 2000, max_bytes=1024) == "oversized"  # not even parsed


def test_detail_names_the_field():
    with pytest.raises(InvalidEvent) as err:
        decode_event(orjson.dumps(UPSERT | {"version": -1}))
    assert "version" in err.value.detail
