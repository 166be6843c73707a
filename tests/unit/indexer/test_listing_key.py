"""``listing_key``: identical listings (同款) share it, whatever the spelling; nothing else does."""

from __future__ import annotations

from analyzers import get_analyzer
from indexer.document import build_source


def doc(pid: str, title: str) -> dict:
    return build_source({"product_id": pid, "shop_id": "s1", "title": title, "searchable": True},
                        get_analyzer(), text_changed=True)


def test_copies_spelled_differently_share_the_key() -> None:
    keys = {doc(f"p{i}", t)["listing_key"] for i, t in enumerate(
        ["华为Mate60 Pro，雅川青", "华为 MATE60 PRO 雅川青", "華為ＭＡＴＥ６０ Pro 雅川青"])}
    assert len(keys) == 1
    assert doc("p9", "华为Mate60 Pro 白沙银")["listing_key"] not in keys


def test_titles_with_no_characters_left_fold_with_nothing() -> None:
    assert doc("p1", "😀！")["listing_key"] != doc("p2", "😀！")["listing_key"]


def test_a_patch_keeps_the_key_and_a_document_from_before_the_key_gets_one() -> None:
    first = doc("p1", "小米14 黑色")
    patched = build_source({**first, "price": 10.0}, get_analyzer(), text_changed=False)
    assert patched["listing_key"] == first["listing_key"]
    older = {k: v for k, v in first.items() if k != "listing_key"}
    assert build_source(older, get_analyzer(), text_changed=False)["listing_key"] == first["listing_key"]


def test_character_references_are_stored_decoded_and_analysed_as_text() -> None:
    """A feed's ``&Ocirc;`` is the letter Ô: shown as such, and ``lancome`` is a word of it."""
    d = doc("p1", "LANC&amp;Ocirc;ME/兰蔻 精华&nbsp;套装")
    assert d["title"] == "LANCÔME/兰蔻 精华\xa0套装"
    assert "lancome" in d["title_words"] and not {"ocirc", "nbsp", "amp"} & set(d["title_words"])
    assert d["listing_key"] == doc("p2", "Lancôme/兰蔻 精华 套装")["listing_key"]


def test_a_document_analysed_before_decoding_is_analysed_again() -> None:
    """``catalog reindex`` builds with ``text_changed=False``: a stored title that still holds
    references is decoded and its words made again, not left with ``ocirc`` beside ``LANCÔME``."""
    raw = "LANC&Ocirc;ME 小黑瓶"
    old = doc("p1", "x")
    old.update(title=raw, title_words=["lanc", "ocirc", "me", "小黑瓶"])
    rebuilt = build_source(old, get_analyzer(), text_changed=False)
    assert rebuilt["title"] == "LANCÔME 小黑瓶" and "lancome" in rebuilt["title_words"]
