"""``catalog impact``: which indexed documents a dictionary change affects, on real ES.

The index is written with the shipped dictionary; the "new" analyzer adds one product word,
冰丝凉席. Only the titles holding it tokenise differently, and only those are rewritten.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from elasticsearch import Elasticsearch
from typer.testing import CliRunner

from analyzers import Analyzer, get_analyzer
from analyzers.dictionary import DATA_DIR, DICT_FILES
from indexer import cli
from indexer.impact import analysis_impact
from indexer.sink import EsSink
from schemas.events import EVENT_ADAPTER

TITLES = {
    "mat-1": "夏季冰丝凉席三件套 可水洗",
    "mat-2": "冰丝凉席 1.8米床 折叠",
    "mat-3": "冰丝 凉席 竹席",  # the same characters, apart: cut the same either way
    "sheet": "纯棉床单 四件套",
    "phone": "华为 Mate60 Pro 手机",
}
AFFECTED = {"mat-1", "mat-2"}


@pytest.fixture
def new_analyzer(tmp_path: Path) -> Analyzer:
    extra = tmp_path / "extra_dict.txt"
    extra.write_text("冰丝凉席 product\n", encoding="utf-8")
    return Analyzer(dict_paths=[*(DATA_DIR / name for name in DICT_FILES), extra])


def _upsert(pid: str, title: str, version: int = 1, **fields: Any) -> Any:
    return EVENT_ADAPTER.validate_python({
        "event_id": f"{pid}-v{version}", "type": "upsert", "product_id": pid, "shop_id": "shop-home",
        "version": version, "occurred_at": "2026-11-01T00:00:00Z",
        "product": {"title": title, "price": 99, "stock": 5, "status": "on_shelf", "category": ["家居", "床品"],
                    **fields}})


@pytest.fixture
def catalog(es: Elasticsearch, index_alias: str) -> str:
    sink = EsSink(es, index=index_alias, analyzer=get_analyzer())
    report = sink.apply([_upsert(pid, title) for pid, title in TITLES.items()])
    assert not report.rejected
    sink.apply([EVENT_ADAPTER.validate_python({  # a tombstone: nothing to analyse, nothing to count
        "event_id": "gone-d", "type": "delete", "product_id": "gone", "shop_id": "shop-home", "version": 3,
        "occurred_at": "2026-11-01T00:00:00Z"})])
    es.indices.refresh(index=index_alias)
    return index_alias


def _seq_nos(es: Elasticsearch, alias: str) -> dict[str, int]:
    docs = es.mget(index=alias, ids=list(TITLES))["docs"]
    return {d["_id"]: d["_seq_no"] for d in docs}


def test_the_shipped_dictionary_affects_nothing(es: Elasticsearch, catalog: str) -> None:
    report = analysis_impact(es, catalog, get_analyzer())
    assert (report.analysed, report.affected, report.samples) == (len(TITLES), 0, [])
    assert report.index_version == report.code_version


def test_a_new_word_affects_exactly_the_titles_holding_it(es: Elasticsearch, catalog: str,
                                                          new_analyzer: Analyzer) -> None:
    before = _seq_nos(es, catalog)
    report = analysis_impact(es, catalog, new_analyzer)
    assert report.analysed == len(TITLES) and report.documents == len(TITLES) + 1  # the tombstone is read
    assert report.affected == 2 and {s["id"] for s in report.samples} == AFFECTED
    assert {"title_words", "title_pinyin", "title_initials"} <= set(report.fields)
    words = next(s for s in report.samples if s["id"] == "mat-1")["fields"]["title_words"]
    assert "冰丝凉席" in words["added"] and words["removed"] == ["丝", "冰"]
    assert report.index_version != report.code_version == new_analyzer.version
    assert _seq_nos(es, catalog) == before  # a look, not a write
    assert not report.version_updated


def test_apply_rewrites_only_the_affected_and_records_the_version(es: Elasticsearch, catalog: str,
                                                                  new_analyzer: Analyzer) -> None:
    before = _seq_nos(es, catalog)
    report = analysis_impact(es, catalog, new_analyzer, apply=True)
    assert (report.affected, report.rewritten, report.conflicts, report.version_updated) == (2, 2, 0, True)
    after = _seq_nos(es, catalog)
    assert {pid for pid in TITLES if after[pid] != before[pid]} == AFFECTED
    target = next(iter(es.indices.get_alias(name=catalog)))
    assert es.indices.get_mapping(index=target)[target]["mappings"]["_meta"]["analysis_version"] \
        == new_analyzer.version
    es.indices.refresh(index=catalog)
    found = es.search(index=catalog, query={"term": {"title_words": "冰丝凉席"}})["hits"]["hits"]
    assert {h["_id"] for h in found} == AFFECTED
    doc = es.get(index=catalog, id="mat-1")["_source"]
    assert doc["price"] == 99 and doc["analysis_version"] == new_analyzer.version  # the rest kept
    again = analysis_impact(es, catalog, new_analyzer)
    assert again.affected == 0 and again.index_version == new_analyzer.version


def test_a_document_written_meanwhile_is_left_to_the_indexer(es: Elasticsearch, catalog: str,
                                                             new_analyzer: Analyzer) -> None:
    sink = EsSink(es, index=catalog, analyzer=get_analyzer())

    def progress(phase: str, done: int, total: int | None) -> None:
        if phase == "analyse" and done == total:  # after the scan, before the rewrite
            assert not sink.apply([_upsert("mat-2", TITLES["mat-2"], version=2, price=79)]).rejected

    report = analysis_impact(es, catalog, new_analyzer, apply=True, progress=progress)
    assert (report.rewritten, report.conflicts, report.version_updated) == (1, 1, False)
    assert es.get(index=catalog, id="mat-2")["_source"]["price"] == 79  # the newer write stands
    target = next(iter(es.indices.get_alias(name=catalog)))
    assert es.indices.get_mapping(index=target)[target]["mappings"]["_meta"]["analysis_version"] \
        == get_analyzer().version


def test_the_cli_reports_and_applies(es: Elasticsearch, catalog: str, new_analyzer: Analyzer,
                                     monkeypatch: pytest.MonkeyPatch, es_url: str) -> None:
    monkeypatch.setenv("POCKET_ES_URL", es_url)
    monkeypatch.setenv("POCKET_INDEX", catalog)
    monkeypatch.setattr(cli, "_bulk_analyzer", lambda: new_analyzer)
    runner = CliRunner()
    table = runner.invoke(cli.app, ["impact"])
    assert table.exit_code == 0, table.output
    assert "2 would change" in table.stdout and "mat-1" in table.stdout and "catalog impact --apply" in table.stdout
    out = runner.invoke(cli.app, ["impact", "--apply", "--json"])
    assert out.exit_code == 0, out.output
    data = orjson.loads(out.stdout)
    assert (data["affected"], data["rewritten"], data["version_updated"]) == (2, 2, True)
    assert orjson.loads(runner.invoke(cli.app, ["impact", "--json"]).stdout)["affected"] == 0
