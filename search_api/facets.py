"""Disjunctive facets in one round trip: post_filter plus filtered aggregations.

Each facet's counts ignore that facet's own selection (a shopper who picked 华为 still
sees how many 小米 they could add) but respect every other selection. The hits are
narrowed by ``post_filter``, which aggregations do not see.
"""

from __future__ import annotations

import re
from typing import Any

#: Nice price edges; the buckets shown are adjacent runs of these, merged to ~5 groups.
PRICE_EDGES = (0, 10, 20, 30, 50, 80, 100, 150, 200, 300, 500, 800, 1000, 1500, 2000, 3000, 5000,
               8000, 10000, 20000, 50000)
TARGET_PRICE_BUCKETS = 5
#: The range aggregation's buckets, one per pair of adjacent edges: built once, not per search.
_PRICE_RANGES = [{"from": lo, "to": hi} for lo, hi in zip(PRICE_EDGES, (*PRICE_EDGES[1:], None), strict=True)]


def _under_all_but(filters: dict[str, list[dict[str, Any]]], skip: str, agg: dict[str, Any]) -> dict[str, Any]:
    """``agg`` under the filters of every facet but ``skip``, as a ``filter`` aggregation with
    ``agg`` as its ``v``; ``agg`` itself when no other facet filters (most searches select no
    facet): four ``match_all`` filter wrappers cost ES ~0.2 ms of CPU a text search (7.5 against
    7.3 ms, 300 real queries on the 100k-product benchmark catalog, eight alternating rounds)."""
    clauses = [c for name, cs in filters.items() if name != skip for c in cs]
    return {"filter": {"bool": {"filter": clauses}}, "aggs": {"v": agg}} if clauses else agg


def _buckets(aggs: dict[str, Any], name: str) -> list[dict[str, Any]]:
    """The buckets of facet ``name``, wrapped in a filter aggregation or not (``_under_all_but``)."""
    agg = aggs[name]
    return agg["v"]["buckets"] if "v" in agg else agg["buckets"]


def _regex_escape(s: str) -> str:
    return re.sub(r'([.?+*|{}\[\]()"\\#@&<>~])', r"\\\1", s)


def build_aggs(facet_filters: dict[str, list[dict[str, Any]]], selected_attr_names: list[str]
               ) -> dict[str, Any]:
    """Aggregations for every facet, each under the filters of all the *other* facets.

    ``facet_filters`` maps a facet ("category", "brand", "price", "attr:<name>", "in_stock")
    to its filter clauses.
    """
    aggs: dict[str, Any] = {
        "f_category": _under_all_but(facet_filters, "category",
                                     {"terms": {"field": "category_levels", "size": 60}}),
        "f_brand": _under_all_but(facet_filters, "brand", {"terms": {"field": "brand", "size": 20}}),
        "f_price": _under_all_but(facet_filters, "price", {"range": {"field": "price", "ranges": _PRICE_RANGES}}),
        # Attributes not selected yet: under every filter.
        "f_attrs": _under_all_but(facet_filters, "", {"terms": {"field": "attrs", "size": 60}}),
    }
    for i, name in enumerate(selected_attr_names):
        aggs[f"f_attr_{i}"] = _under_all_but(
            facet_filters, f"attr:{name}",
            {"terms": {"field": "attrs", "size": 30, "include": _regex_escape(name) + "=.*"}})
    return aggs


def parse_facets(aggs: dict[str, Any], selected_attr_names: list[str], *, top_attributes: int = 8
                 ) -> dict[str, Any]:
    return {
        "category": _category_tree(_buckets(aggs, "f_category")),
        "brand": [{"value": b["key"], "count": b["doc_count"]} for b in _buckets(aggs, "f_brand")],
        "price": _price_buckets(_buckets(aggs, "f_price")),
        "attributes": _attributes(aggs, selected_attr_names, top_attributes),
    }


def _category_tree(buckets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``category_levels`` counts -> a tree with counts at every level."""
    nodes: dict[str, dict[str, Any]] = {}
    roots: list[dict[str, Any]] = []
    for b in sorted(buckets, key=lambda b: b["key"].count("/")):
        path = b["key"]
        parent, _, name = path.rpartition("/")
        node = {"value": name, "path": path, "count": b["doc_count"], "children": []}
        nodes[path] = node
        if parent and parent in nodes:
            nodes[parent]["children"].append(node)
        elif not parent:
            roots.append(node)
    for n in nodes.values():
        n["children"].sort(key=lambda c: -c["count"])
    return sorted(roots, key=lambda c: -c["count"])


def _price_buckets(buckets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Merge the fine, nice-edged buckets into about five of similar size (exact counts)."""
    nonempty = [b for b in buckets if b["doc_count"]]
    if not nonempty:
        return []
    total = sum(b["doc_count"] for b in nonempty)
    share = total / TARGET_PRICE_BUCKETS
    out: list[dict[str, Any]] = []
    run: list[dict[str, Any]] = []
    in_run = 0
    for b in nonempty:
        run.append(b)
        in_run += b["doc_count"]
        if in_run >= share * 0.8:
            out.append(_merge(run))
            run, in_run = [], 0
    if run:
        if out and in_run < share * 0.3:
            last = out.pop()
            out.append(_merge([{"from": last["min"], "to": last["max"], "doc_count": last["count"]}, *run]))
        else:
            out.append(_merge(run))
    return out


def _merge(run: list[dict[str, Any]]) -> dict[str, Any]:
    lo, hi = run[0].get("from"), run[-1].get("to")
    label = f"{lo:g}-{hi:g}" if hi is not None else f"{lo:g}+"
    return {"min": lo, "max": hi, "label": label, "count": sum(b["doc_count"] for b in run)}


def _attributes(aggs: dict[str, Any], selected: list[str], top: int) -> list[dict[str, Any]]:
    by_name: dict[str, dict[str, int]] = {}
    for b in _buckets(aggs, "f_attrs"):
        name, _, value = b["key"].partition("=")
        if name not in selected:
            by_name.setdefault(name, {})[value] = b["doc_count"]
    ranked = sorted(by_name.items(), key=lambda kv: -sum(kv[1].values()))[:top]
    for i, name in enumerate(selected):  # selected attributes always show, disjunctively counted
        values = {b["key"].partition("=")[2]: b["doc_count"] for b in _buckets(aggs, f"f_attr_{i}")}
        ranked.insert(i, (name, values))
    return [{"name": n, "values": [{"value": v, "count": c} for v, c in
                                   sorted(vals.items(), key=lambda kv: -kv[1])[:12]]} for n, vals in ranked]
