"""The hand-made fixture catalog of the API tests, and how to index it.

Small enough to count facets by hand (the expected counts in the tests are written out,
not computed), varied enough to exercise every parameter: three shops, a two- and a
three-level category tree, six brands, attributes, prices from 79 to 5999, stock 0, and
one off-shelf, one banned and one deleted product whose brand, category and words
appear nowhere else (so a leak into facets or suggestions is visible).

Documents are shuffled before indexing so that no ranking test passes by insertion order.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from elasticsearch import Elasticsearch
from fastapi.testclient import TestClient
from tenacity import retry, stop_after_delay, wait_fixed

from analyzers import get_analyzer
from indexer.admin import create_index
from indexer.sink import EsSink
from schemas.events import EVENT_ADAPTER
from search_api.main import create_app
from search_api.settings import ApiSettings

NOW = datetime.now(UTC)
OLD = datetime(2023, 1, 1, tzinfo=UTC)

S1, S2, S3 = "shop-digital", "shop-fashion", "shop-beauty"
SHOP_NAMES = {S1: "数码旗舰店", S2: "潮流服饰店", S3: "美妆官方店"}


def _p(pid: str, shop: str, title: str, brand: str, category: list[str], attrs: dict[str, str], price: float,
       *, stock: int = 10, sales: int = 100, rating: float = 4.5, status: str = "on_shelf",
       created: datetime = OLD, shop_score: float | None = None) -> dict[str, Any]:
    extra = {"shop_score": shop_score} if shop_score is not None else {}
    return {"product_id": pid, "shop_id": shop, "product": {**extra,
        "title": title, "description": f"{brand} {title}", "brand": brand, "category": category,
        "attributes": attrs, "price": price, "stock": stock, "sales": sales, "rating": rating,
        "status": status, "image": f"https://img.example.com/{pid}.jpg", "shop_name": SHOP_NAMES[shop],
        "created_at": created.isoformat(), "updated_at": created.isoformat()}}


PHONE = ["手机数码", "手机"]
EAR = ["手机数码", "耳机"]
DRESS = ["女装", "连衣裙"]
TOP = ["女装", "上衣"]
CREAM = ["美妆护肤", "面部护肤", "面霜"]
SERUM = ["美妆护肤", "面部护肤", "精华"]

#: On-shelf products: 16. Counts used by the tests are derived by hand from this table.
ON_SHELF = [
    _p("p01", S1, "华为 Mate60 Pro 智能手机 黑色", "华为", PHONE, {"颜色": "黑色", "存储容量": "256GB"}, 5999,
       sales=5000, rating=4.8),
    _p("p02", S1, "华为 nova12 5G手机 白色", "华为", PHONE, {"颜色": "白色", "存储容量": "256GB"}, 2999),
    _p("p03", S1, "华为 P60 拍照手机 蓝色", "华为", PHONE, {"颜色": "蓝色", "存储容量": "512GB"}, 4488,
       stock=0),
    _p("p04", S1, "小米14 Ultra 徕卡影像手机 黑色", "小米", PHONE, {"颜色": "黑色", "存储容量": "512GB"},
       5499),
    _p("p05", S1, "小米 Redmi K70 游戏手机 白色", "小米", PHONE, {"颜色": "白色", "存储容量": "256GB"}, 1999,
       created=NOW - timedelta(days=10)),
    _p("p06", S1, "苹果 iPhone15 手机 黑色", "苹果", PHONE, {"颜色": "黑色", "存储容量": "128GB"}, 5799),
    _p("p07", S1, "华为 FreeBuds 降噪耳机 白色", "华为", EAR, {"颜色": "白色"}, 899),
    _p("p08", S1, "小米 蓝牙耳机 运动款 黑色", "小米", EAR, {"颜色": "黑色"}, 199),
    _p("p09", S1, "苹果 AirPods Pro 无线耳机", "苹果", EAR, {"颜色": "白色"}, 1899, rating=4.9),
    _p("p10", S2, "优衣库 法式碎花连衣裙 红色", "优衣库", DRESS, {"颜色": "红色", "尺码": "M"}, 299),
    _p("p11", S2, "ZARA 黑色长款连衣裙", "ZARA", DRESS, {"颜色": "黑色", "尺码": "S"}, 459),
    _p("p12", S2, "优衣库 简约针织连衣裙 白色", "优衣库", DRESS, {"颜色": "白色", "尺码": "L"}, 199),
    _p("p13", S2, "优衣库 纯棉短袖T恤 白色", "优衣库", TOP, {"颜色": "白色", "尺码": "M"}, 79),
    _p("p14", S2, "ZARA 真丝衬衫 黑色", "ZARA", TOP, {"颜色": "黑色", "尺码": "M"}, 259),
    # Traditional characters in the title: a simplified query must find and highlight it.
    _p("p15", S3, "蘭蔻菁純面霜 50ml", "兰蔻", CREAM, {"净含量": "50ml"}, 1350),
    _p("p16", S3, "兰蔻小黑瓶精华液 30ml", "兰蔻", SERUM, {"净含量": "30ml"}, 760,
       created=NOW - timedelta(days=1)),
]
ON_SHELF_IDS = {p["product_id"] for p in ON_SHELF}

#: Never visible: off shelf, banned, deleted. Their brand/category/words are unique to them.
HIDDEN = [
    _p("x-off", S1, "魅族 平板电脑 学习机", "魅族", ["手机数码", "平板电脑"], {"颜色": "金色"}, 1599,
       status="off_shelf"),
    _p("x-ban", S2, "山寨 仿冒旗袍 连衣裙", "山寨", ["女装", "旗袍"], {"颜色": "紫色"}, 99, status="banned"),
    _p("x-del", S3, "雅诗兰黛 眼霜 15ml", "雅诗兰黛", ["美妆护肤", "眼部护理"], {"净含量": "15ml"}, 520),
]
HIDDEN_IDS = {p["product_id"] for p in HIDDEN}


def upsert(p: dict[str, Any], version: int = 1) -> Any:
    return EVENT_ADAPTER.validate_python({
        "event_id": f"{p['product_id']}-v{version}", "type": "upsert", "product_id": p["product_id"],
        "shop_id": p["shop_id"], "version": version, "occurred_at": NOW.isoformat(), "product": p["product"]})


def delete(p: dict[str, Any], version: int) -> Any:
    return EVENT_ADAPTER.validate_python({
        "event_id": f"{p['product_id']}-del{version}", "type": "delete", "product_id": p["product_id"],
        "shop_id": p["shop_id"], "version": version, "occurred_at": NOW.isoformat()})


@retry(stop=stop_after_delay(60), wait=wait_fixed(1), reraise=True)
def _wait_for_es(es: Elasticsearch) -> None:
    """Another suite restarts ES for its fault tests: wait (bounded) until it answers."""
    es.cluster.health(wait_for_status="yellow", timeout="5s")


def create_catalog(es: Elasticsearch, alias: str, products: Iterable[dict[str, Any]], *,
                   deleted: Iterable[dict[str, Any]] = (), seed: int = 11) -> None:
    """Create ``<alias>-v1`` behind ``alias`` and index ``products`` (shuffled) through the sink;
    ``deleted`` are upserted, then deleted, so they exist as tombstones."""
    _wait_for_es(es)
    name = f"{alias}-v1"
    create_index(es, name, get_analyzer())
    es.indices.put_alias(index=name, name=alias, is_write_index=True)
    docs = list(products) + list(deleted)
    random.Random(seed).shuffle(docs)
    sink = EsSink(es, index=alias, analyzer=get_analyzer())
    report = sink.apply([upsert(p) for p in docs])
    assert not report.rejected, report.rejected
    if deleted:
        sink.apply([delete(p, 2) for p in deleted])
    es.indices.refresh(index=alias)


def drop_catalog(es: Elasticsearch, alias: str) -> None:
    es.options(ignore_status=404).indices.delete(index=f"{alias}-*")



@contextmanager
def serve_catalog(es: Elasticsearch, es_url: str, name: str, products: Iterable[dict[str, Any]], *,
                  seed: int = 11) -> Iterator[TestClient]:
    """An API over a catalog of its own (``products`` behind a fresh alias), dropped afterwards."""
    alias = f"t{uuid.uuid4().hex[:10]}-{name}"
    try:
        create_catalog(es, alias, products, seed=seed)
        with TestClient(create_app(ApiSettings(es_url=es_url, index=alias))) as client:
            yield client
    finally:
        drop_catalog(es, alias)


def served_catalog(name: str, products: list[dict[str, Any]], *, seed: int = 11) -> Any:
    """A module-scoped fixture: an API over ``products`` (:func:`serve_catalog`). Assign it to
    the fixture's name in the test module: ``typo_client = served_catalog("typo", PRODUCTS)``."""

    @pytest.fixture(scope="module")
    def client(api_es: Elasticsearch, api_es_url: str) -> Iterator[TestClient]:
        with serve_catalog(api_es, api_es_url, name, products, seed=seed) as c:
            yield c

    return client
