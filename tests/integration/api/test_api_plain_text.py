"""Listings from scraped feeds carry HTML character references (``LANC&Ocirc;ME``, ``&nbsp;``):
the indexer stores them decoded (``indexer.document.build_source``), so what a storefront shows,
searches and highlights is the text the seller meant."""

from __future__ import annotations

from api_catalog import S3, _p, served_catalog
from fastapi.testclient import TestClient

SERUM = ["美妆护肤", "面部护肤", "精华"]
PRODUCTS = [
    # Escaped twice, as in real Product1M titles.
    _p("e-lancome", S3, "LANC&amp;Ocirc;ME/兰蔻 小黑瓶精华&nbsp;30ml&times;2", "LANC&Ocirc;ME", SERUM, {}, 1290),
    _p("e-other", S3, "雅诗兰黛 小棕瓶精华 50ml", "雅诗兰黛", SERUM, {}, 990),
]


client = served_catalog("plain", PRODUCTS)


def test_a_latin_word_written_with_a_character_reference_is_found_and_shown_decoded(client: TestClient) -> None:
    resp = client.get("/search", params={"q": "lancome"})
    assert resp.status_code == 200, resp.text
    hits = resp.json()["hits"]
    assert [h["id"] for h in hits] == ["e-lancome"]
    assert hits[0]["title"] == "LANCÔME/兰蔻 小黑瓶精华\xa030ml×2"
    assert hits[0]["brand"] == "LANCÔME"
    assert hits[0]["highlight"].startswith("<em>LANCÔME</em>/")


def test_the_product_and_its_brand_facet_are_decoded_too(client: TestClient) -> None:
    product = client.get("/products/e-lancome").json()
    assert product["title"].startswith("LANCÔME/") and "&" not in product["title"]
    facets = client.get("/search", params={"q": "精华"}).json()["facets"]
    assert {b["value"] for b in facets["brand"]} == {"LANCÔME", "雅诗兰黛"}


def test_the_words_of_a_reference_are_not_words_of_the_title(client: TestClient) -> None:
    """Before decoding, ``ocirc``, ``nbsp`` and ``times`` were searchable words of the listing."""
    for q in ("ocirc", "nbsp", "times"):
        assert client.get("/search", params={"q": q}).json()["total"] == 0, q
