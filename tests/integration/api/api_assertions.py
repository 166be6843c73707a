"""Domain assertions for the API tests: they read like the spec.

``resp`` is always an httpx response of the API; each helper checks its status first so a
failure says what the API answered, not a KeyError.
"""

from __future__ import annotations

import json
import re
from typing import Any

from api_catalog import HIDDEN

HIDDEN_WORDS = {"魅族", "平板", "山寨", "旗袍", "雅诗兰黛", "眼霜", "眼部护理", "金色", "紫色", "15ml"}


def body(resp: Any) -> dict[str, Any]:
    assert resp.status_code == 200, f"{resp.status_code}: {resp.text[:500]}"
    return resp.json()  # type: ignore[no-any-return]


def ids(resp: Any) -> list[str]:
    return [h["id"] for h in body(resp)["hits"]]


def assert_hits(resp: Any, expected: set[str] | list[str]) -> None:
    """Exactly these products (a set), or exactly this order (a list)."""
    got = ids(resp)
    if isinstance(expected, set):
        assert set(got) == expected, f"hits {sorted(got)} != {sorted(expected)}"
        assert body(resp)["total"] == len(expected)
    else:
        assert got == expected, f"order {got} != {expected}"


def assert_ranks_first(resp: Any, pid: str) -> None:
    got = ids(resp)
    assert got and got[0] == pid, f"{pid} should rank first: {got}"


def assert_weight_decides(client: Any, monkeypatch: Any, weight: str, q: str, *, on: str, off: str) -> None:
    """With ``search_api.text_query.WEIGHTS[weight]`` as set, ``on`` ranks first for ``q``; with
    it at 0, ``off`` does. The control shows that the feature, not the catalog, decides."""
    from search_api import text_query

    assert_ranks_first(client.get("/search", params={"q": q}), on)
    monkeypatch.setitem(text_query.WEIGHTS, weight, 0.0)
    assert_ranks_first(client.get("/search", params={"q": q}), off)


def assert_ranks_before(resp: Any, first: str, second: str) -> None:
    got = ids(resp)
    assert first in got and second in got, f"{first} and {second} should both be hits: {got}"
    assert got.index(first) < got.index(second), f"{first} should rank before {second}: {got}"


def assert_ranks_last(resp: Any, pid: str) -> None:
    got = ids(resp)
    assert got and got[-1] == pid, f"{pid} should rank last: {got}"


def facet(resp: Any, name: str) -> dict[str, int]:
    """A facet as ``{value: count}``: ``brand``, ``price`` (by label), ``category`` (every level,
    by path) or ``attr:<name>``."""
    facets = body(resp)["facets"]
    if name == "category":
        out: dict[str, int] = {}

        def walk(nodes: list[dict[str, Any]]) -> None:
            for n in nodes:
                out[n["path"]] = n["count"]
                walk(n["children"])
        walk(facets["category"])
        return out
    if name == "price":
        return {b["label"]: b["count"] for b in facets["price"]}
    if name.startswith("attr:"):
        attr = name[5:]
        for a in facets["attributes"]:
            if a["name"] == attr:
                return {v["value"]: v["count"] for v in a["values"]}
        return {}
    return {b["value"]: b["count"] for b in facets[name]}


def assert_facet(resp: Any, name: str, expected: dict[str, int]) -> None:
    got = facet(resp, name)
    assert got == expected, f"facet {name}: {got} != {expected}"


def assert_invalid(resp: Any, param: str) -> None:
    """A 422 in the one error shape, naming ``param``."""
    assert resp.status_code == 422, f"{resp.status_code}: {resp.text[:300]}"
    err = resp.json()
    assert err["error"] == "invalid_parameter" and err["detail"], err
    assert err["param"] == param, f"422 names {err.get('param')!r}, not {param!r}: {err['detail']}"


def assert_unavailable(resp: Any) -> None:
    """A 503 with Retry-After in the one error shape (never a 500)."""
    assert resp.status_code == 503, f"{resp.status_code}: {resp.text[:300]}"
    assert int(resp.headers["retry-after"]) > 0
    assert resp.json()["error"] == "backend_unavailable"


def strip_tags(text: str, pre: str, post: str) -> str:
    return text.replace(pre, "").replace(post, "")


def marked(text: str, pre: str = "<em>", post: str = "</em>") -> list[str]:
    return re.findall(re.escape(pre) + "(.*?)" + re.escape(post), text)


def assert_highlights_faithful(resp: Any, pre: str = "<em>", post: str = "</em>") -> None:
    """Every hit's highlight, tags stripped, is its original title: no offset broken."""
    for h in body(resp)["hits"]:
        assert strip_tags(h["highlight"], pre, post) == h["title"], h


def assert_nothing_hidden(resp: Any) -> None:
    """No off-shelf, banned or deleted product in hits, facets or suggestions (tenant safety)."""
    out = body(resp)
    # The echo of the shopper's own words is not a leak.
    text = json.dumps({k: v for k, v in out.items() if k not in ("applied", "query")}, ensure_ascii=False)
    for p in HIDDEN:
        assert f'"{p["product_id"]}"' not in text, f"{p['product_id']} leaked"
    leaked = [w for w in HIDDEN_WORDS if w in text]
    assert not leaked, f"hidden products leaked through {leaked}"


def record_es_calls(client: Any, monkeypatch: Any) -> list[str]:
    """Wrap the app's ES client so that every ``search``/``msearch`` it sends is named, in order,
    in the returned list (the requests still go to ES)."""
    es = client.app.state.service.es
    sent: list[str] = []

    def spy(name: str) -> Any:
        real = getattr(es, name)

        def call(*args: Any, **kw: Any) -> Any:
            sent.append(name)
            return real(*args, **kw)
        return call

    for name in ("search", "msearch"):
        monkeypatch.setattr(es, name, spy(name))
    return sent
