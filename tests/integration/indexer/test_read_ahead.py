"""Reading a batch ahead (while the previous one is written) is a hint that never changes the result.

Against real ES: the documents read ahead may have changed by the time the batch is
written, and the analyses made ahead may not match the text the merge ends with; either way
the index must end as if nothing had been read ahead.
"""

from __future__ import annotations

import orjson
from harness import EventGen, assert_no_diffs, expected_state

from analyzers import get_analyzer
from indexer.decode import decode_event
from indexer.sink import EsSink


class CountingAnalyzer:
    """The real analyzer, counting the titles it analyses."""

    def __init__(self) -> None:
        self.inner = get_analyzer()
        self.version = self.inner.version
        self.titles: list[str] = []

    def analyze_product(self, **kw):
        self.titles.append(kw["title"])
        return self.inner.analyze_product(**kw)


def decoded(events: list[dict]) -> list:
    return [decode_event(orjson.dumps(e)) for e in events]


def test_read_ahead_analyses_only_new_and_changed_texts_and_the_write_reuses_them(es, index_alias):
    gen = EventGen(seed=31, products=3, prefix="ra")
    a, b, c = gen._src
    first = [gen.event_for(src, "upsert") for src in (a, b)]
    EsSink(es, index=index_alias, analyzer=get_analyzer()).apply(decoded(first))

    same_text = gen.event_for(a, "upsert") | {"version": first[0]["version"] + 1}
    same_text["product"] = first[0]["product"] | {"price": 1.5}  # a CDC upsert: new price, same text
    new_title = gen.event_for(b, "upsert") | {"version": first[1]["version"] + 1}
    new_title["product"] = first[1]["product"] | {"title": first[1]["product"]["title"] + " 新款"}
    new_product = gen.event_for(c, "upsert")
    stale = dict(first[1])  # a replay: already applied
    batch = [same_text, new_title, new_product, stale]

    analyzer = CountingAnalyzer()
    sink = EsSink(es, index=index_alias, analyzer=analyzer)
    ahead = sink.read_ahead(decoded(batch))
    assert ahead.fetched == {a.product_id, b.product_id, c.product_id}
    assert set(ahead.current) == {a.product_id, b.product_id}
    assert sorted(analyzer.titles) == sorted([new_title["product"]["title"], new_product["product"]["title"]])

    analyzer.titles.clear()
    report = sink.apply(decoded(batch), ahead=ahead)
    assert analyzer.titles == [], "the write analysed again what was read ahead"
    assert {e.event_id for e in report.indexed} == {same_text["event_id"], new_title["event_id"],
                                                    new_product["event_id"]}
    assert [e.event_id for e in report.stale] == [stale["event_id"]]
    assert_no_diffs(es, index_alias, expected_state(first + batch))


def test_a_document_changed_after_it_was_read_ahead_is_read_again_not_overwritten(es, index_alias):
    gen = EventGen(seed=32, products=1, prefix="rc")
    (src,) = gen._src
    v1 = gen.event_for(src, "upsert")
    sink = EsSink(es, index=index_alias, analyzer=get_analyzer())
    sink.apply(decoded([v1]))

    patch = gen.event_for(src, "patch") | {"version": v1["version"] + 5}
    upsert = gen.event_for(src, "upsert") | {"version": v1["version"] + 2}
    ahead = sink.read_ahead(decoded([upsert]))  # reads the document at v1 ...
    sink.apply(decoded([patch]))  # ... which a newer patch then changes
    report = sink.apply(decoded([upsert]), ahead=ahead)

    assert report.conflicts == 1  # the stale read lost its if_seq_no race and was read again
    assert [e.event_id for e in report.indexed] == [upsert["event_id"]]
    # The patch's fields (newer) survive the older upsert: the result of applying all three in order.
    assert_no_diffs(es, index_alias, expected_state([v1, patch, upsert]))


def test_an_analysis_made_ahead_for_other_texts_is_not_used(es, index_alias):
    """A patch of the title in the same batch changes the text the write analyses: the upsert's
    analysis made ahead must not be indexed for it."""
    gen = EventGen(seed=33, products=1, prefix="rt")
    (src,) = gen._src
    upsert = gen.event_for(src, "upsert")
    retitle = {"event_id": "rt-retitle", "type": "patch", "product_id": src.product_id,
               "shop_id": upsert["shop_id"], "version": upsert["version"] + 1,
               "occurred_at": upsert["occurred_at"], "patch": {"title": "全新标题 蓝牙耳机"}}
    analyzer = CountingAnalyzer()
    sink = EsSink(es, index=index_alias, analyzer=analyzer)
    ahead = sink.read_ahead(decoded([upsert, retitle]))
    assert analyzer.titles == [upsert["product"]["title"]]
    sink.apply(decoded([upsert, retitle]), ahead=ahead)
    assert analyzer.titles[-1] == "全新标题 蓝牙耳机"
    es.indices.refresh(index=index_alias)
    doc = es.get(index=index_alias, id=src.product_id)["_source"]
    assert "耳机" in doc["title_words"].split()
    assert_no_diffs(es, index_alias, expected_state([upsert, retitle]))
