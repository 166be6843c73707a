"""The Elasticsearch that ``scripts/services.py`` runs reads its index files memory-mapped.

With ``node.store.allow_mmap: false`` (the first runner's setting) every posting list and doc
value went through ``read()`` calls: 16-63% more ES CPU a search (ARCHITECTURE, "Running it
without Docker"). The setting is easy to lose in a config rewrite, so the node is checked where
it shows: in its settings, and in the memory maps of its process. Both follow
``POCKET_ES_MMAP`` (true unless set), as ``scripts/services.py`` reads it.
"""

from __future__ import annotations

from pathlib import Path

import services as svc
from elasticsearch import Elasticsearch


def test_the_node_allows_mmap(es: Elasticsearch, services_config: svc.Config) -> None:
    nodes = es.nodes.info(metric="settings")["nodes"]
    want = str(services_config.es_mmap).lower()
    assert [n["settings"]["node"]["store"]["allow_mmap"] for n in nodes.values()] == [want]


def test_a_searched_index_is_memory_mapped(es: Elasticsearch, index_alias: str,
                                           services_config: svc.Config) -> None:
    index = next(iter(es.indices.get_alias(name=index_alias)))
    es.index(index=index_alias, id="p1", document={"product_id": "p1", "title_words": "面霜",
                                                   "brand": "兰蔻", "searchable": True})
    es.indices.refresh(index=index_alias)
    hits = es.search(index=index_alias, query={"match": {"title_words": "面霜"}},
                     aggs={"b": {"terms": {"field": "brand"}}})
    assert hits["hits"]["total"]["value"] == 1
    uuid = es.indices.get_settings(index=index)[index]["settings"]["index"]["uuid"]
    pid = svc.pid_of(services_config, "es")
    assert pid is not None, "the tests run against the ES that scripts/services.py started"
    maps = Path(f"/proc/{pid}/maps").read_text()
    mapped = f"/indices/{uuid}/" in maps
    assert mapped == services_config.es_mmap, f"index files mapped: {mapped}, POCKET_ES_MMAP: {services_config.es_mmap}"
