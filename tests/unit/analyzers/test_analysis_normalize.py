"""Normalisation: full width, case, traditional characters and model numbers meet."""

from __future__ import annotations

import pytest

from analyzers.normalize import decode_char_refs, model_tokens, normalize, normalize_with_offsets

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("raw", "expected"), [
    ("ＩＰＨＯＮＥ１５", "iphone15"),
    ("  Lancôme   兰蔻 ", "lancome 兰蔻"),
    ("蘭蔻精華液", "兰蔻精华液"),
    ("乾燥肌膚", "干燥肌肤"),
    ("乾隆", "乾隆"),  # phrase-level t2s keeps the name
    ("", ""),
])
def test_normalize(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_normalize_never_raises_on_non_text() -> None:
    assert normalize(None) == ""  # type: ignore[arg-type]


@pytest.mark.parametrize(("raw", "expected"), [
    ("LANC&Ocirc;ME/兰蔻", "LANCÔME/兰蔻"),  # real Product1M titles, escaped once
    ("LANC&amp;Ocirc;ME/兰蔻肌底精华眼霜套组", "LANCÔME/兰蔻肌底精华眼霜套组"),  # and twice
    ("精华50ml&times;2", "精华50ml×2"),
    ("&#20013;&#x6587;", "中文"),
    ("AT&T", "AT&T"),  # a bare & is text
    ("fish&parachute", "fish&parachute"),  # no ``;``: not the legacy &para (¶)
    ("&bogus;", "&bogus;"),  # a name HTML lacks stays as written
    ("&amp;amp;amp;", "&amp;"),  # two rounds, no more
    ("&lt;script&gt;新款&#60;/b&#x3e;", "&lt;script&gt;新款&#60;/b&#x3e;"),  # escaped markup stays escaped
    ("&amp;lt;b&amp;gt;", "&lt;b&gt;"),  # also when escaped twice
])
def test_decode_char_refs(raw: str, expected: str) -> None:
    assert decode_char_refs(raw) == expected


def test_offsets_map_every_normalised_char_to_its_source() -> None:
    text = "ＡＢ蘭㎖c"
    norm, origin = normalize_with_offsets(text)
    assert norm == "ab兰mlc"
    assert [text[i] for i in origin] == ["Ａ", "Ｂ", "蘭", "㎖", "㎖", "c"]


@pytest.mark.parametrize(("run", "expected"), [
    ("iphone15", ("iphone", "15", "iphone15")),
    ("sk-ii", ("sk", "ii", "skii")),
    ("xr-2000", ("xr", "2000", "xr2000")),
    ("15.6", ("15.6",)),
    ("nike", ("nike",)),
])
def test_model_tokens_keep_parts_and_whole(run: str, expected: tuple[str, ...]) -> None:
    assert model_tokens(run) == expected


@pytest.mark.parametrize("title", ["iPhone15ProMax", "iphone 15 pro max", "ＩＰＨＯＮＥ１５ Pro Max"])
def test_model_spellings_share_tokens(analyzer, title: str) -> None:
    words = set(analyzer.document_fields(title=title)["title_words"].split())
    assert {"iphone", "15", "pro", "max"} <= words


def test_camel_case_model_keeps_whole_token(analyzer) -> None:
    assert "iphone15promax" in analyzer.document_fields(title="iPhone15ProMax")["title_words"].split()


def test_traditional_title_matches_simplified_query(analyzer) -> None:
    doc = set(analyzer.document_fields(title="蘭蔻菁純面霜")["title_words"].split())
    assert set(analyzer.analyze_query("兰蔻菁纯面霜").words) & doc >= {"兰蔻", "面霜"}
