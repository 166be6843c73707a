"""Our search beats stock Elasticsearch on the shared judged queries (issue 3).

Runs the whole evaluation: ~19k real catalog rows analysed and indexed into throwaway
indices, 392 judged queries through the /search code path and through the baseline
(ES ``standard`` analyzer + plain ``match``), measured in the same run; then the same
queries again as shoppers also type them (traditional characters, full-width, no spaces).
And a second judged set no label went into: known-item queries made from the catalog itself
(``catalog eval known-items``), so a method tuned to the labels' wording shows here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from indexer.known_items import known_item_queries
from indexer.relevance import evaluate, load_catalog

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
BAR_NDCG = 0.78
VARIANTS = ("traditional", "fullwidth", "nospace")
CATALOGS = [DATA / "catalog" / n for n in ("product1m.jsonl", "ecommerce_ner.jsonl", "openbg.jsonl")]


_RESULTS: dict[str, dict] = {}  # one evaluation (~2 min) shared by the tests of this module


@pytest.fixture
def result(es: Any) -> dict:
    if "run" not in _RESULTS:
        judgments = DATA / "relevance" / "product1m_label_queries.jsonl"
        if not judgments.exists() or not all(c.exists() for c in CATALOGS):
            pytest.fail(f"shared data missing under {DATA}", pytrace=False)
        _RESULTS["run"] = evaluate(es, judgments_path=judgments, catalog_paths=CATALOGS,
                                   index_prefix="eval-it-", variants=(*VARIANTS, "homophone"))
    return _RESULTS["run"]


def test_ours_beats_baseline_measured_in_the_same_run(result: dict) -> None:
    assert result["queries"] == 392
    assert result["ndcg@10"] > result["baseline"]["ndcg@10"], result
    assert result["p@10"] >= result["baseline"]["p@10"], result


@pytest.mark.xfail(reason="issue 3 bar not reached yet: ~0.69 measured vs 0.78 (see analyzers/README.md)",
                   strict=True)
def test_ours_reaches_the_bar(result: dict) -> None:
    assert result["ndcg@10"] >= BAR_NDCG, result


@pytest.mark.parametrize("variant", VARIANTS)
def test_ours_holds_when_shoppers_write_the_query_differently(result: dict, variant: str) -> None:
    """Normalisation at work: the same queries in traditional characters, full-width or
    without spaces score what the originals score, and above stock ES on the same forms."""
    scores = result["variants"][variant]
    assert scores["ours"]["ndcg@10"] >= result["ndcg@10"] - 0.01, scores
    assert scores["ours"]["ndcg@10"] > scores["baseline"]["ndcg@10"], scores


def test_ours_beats_baseline_with_a_homophone_typo_in_every_query(result: dict) -> None:
    """One character typed as another of the same sound (兰蔻肖黑瓶): the typo breaks the word,
    and the pinyin of the characters left single spells it again."""
    scores = result["variants"]["homophone"]
    assert scores["ours"]["ndcg@10"] > scores["baseline"]["ndcg@10"], scores


def test_ours_beats_baseline_on_known_item_queries_made_from_the_catalog(es: Any, tmp_path: Path) -> None:
    """400 queries of two or three words of one title each (jieba's general dictionary, not
    ours), that title's listings judged relevant: no label and no tuning went into them."""
    if not all(c.exists() for c in CATALOGS):
        pytest.fail(f"shared data missing under {DATA}", pytrace=False)
    queries = known_item_queries(load_catalog(CATALOGS), count=400, seed=1)
    path = tmp_path / "known_items.jsonl"
    path.write_text("".join(json.dumps(q, ensure_ascii=False) + "\n" for q in queries), encoding="utf-8")
    result = evaluate(es, judgments_path=path, catalog_paths=CATALOGS, index_prefix="eval-it-ki-",
                      variants=["homophone"])
    assert result["queries"] == 400
    assert result["ndcg@10"] > result["baseline"]["ndcg@10"], result
    assert result["mrr@10"] > result["baseline"]["mrr@10"], result
    typo = result["variants"]["homophone"]
    assert typo["ours"]["ndcg@10"] > typo["baseline"]["ndcg@10"], typo
