"""Price intent in a query: ``500元以下``, ``100-200元``, ``200元以上``, ``便宜``.

The intent becomes a filter, and its words leave the text that is matched, so
``手机500元以下`` searches ``手机`` with ``price <= 500``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

#: A number that is not the tail of a model or size (``ddr3``, ``y510``, ``x27``).
_NUM = r"(?<![A-Za-z0-9.])(\d+(?:\.\d+)?)"
_CURRENCY = r"(?:元|块钱|块|rmb|¥)"
_YUAN = rf"{_CURRENCY}?"
_CURRENCY_WORD = re.compile(_CURRENCY)
#: After 低于/超过 and no currency, the number must end the phrase: 小于2厘米 is a length.
_BARE_END = r"(?=\s|的|$|[,，。!！?？])"
_RANGE = re.compile(rf"{_NUM}\s*{_YUAN}\s*(?:-|~|到|至)\s*{_NUM}\s*{_YUAN}(?:之间|左右)?")
# 内 alone needs the currency word (100元内): after a bare number it starts a word (8内屏, 12内存).
_BELOW = re.compile(rf"(?:(?:低于|不超过|不到|小于)\s*{_NUM}\s*(?:{_CURRENCY}|{_BARE_END})"
                    rf"|{_NUM}\s*(?:{_YUAN}\s*(?:以下|以内|之内)|{_CURRENCY}\s*内))")
_ABOVE = re.compile(rf"(?:(?:高于|超过|大于)\s*{_NUM}\s*(?:{_CURRENCY}|{_BARE_END})"
                    rf"|{_NUM}\s*{_YUAN}\s*(?:以上))")
#: A number right after a measure is that measure (宽40以内, 身高160以下, 长度50以下), not a price.
_MEASURE_BEFORE = re.compile(r"(?:宽|长|高|厚|深|重|尺寸|直径|周长|[腰胸臀]围|年龄|体重)度?\s*$")
_CHEAP = re.compile(r"(?:便宜|平价|低价|白菜价)(?:一点|点|些|的)?")


@dataclass(frozen=True)
class PriceIntent:
    price_min: float | None = None
    price_max: float | None = None
    cheap: bool = False
    matched: str = ""

    def as_dict(self) -> dict[str, object]:
        return {k: v for k, v in (("price_min", self.price_min), ("price_max", self.price_max),
                                  ("cheap", self.cheap or None), ("matched", self.matched)) if v}


def parse_price_intent(q: str) -> tuple[str, PriceIntent | None]:
    """Return the query without its price words, and the intent (or None).

    ``"手机500元以下"`` -> ``("手机", PriceIntent(price_max=500))``. A bare number with
    no price word (``"iphone 15"``) is never taken as a price.
    """
    text = unicodedata.normalize("NFKC", q)
    if m := _RANGE.search(text):
        lo, hi = sorted((float(m.group(1)), float(m.group(2))))
        if "元" in m.group(0) or "块" in m.group(0) or "¥" in m.group(0) or "之间" in m.group(0):
            return _strip(text, m), PriceIntent(price_min=lo, price_max=hi, matched=m.group(0))
    if m := _priced(_BELOW, text):
        v = float(m.group(1) or m.group(2))
        return _strip(text, m), PriceIntent(price_max=v, matched=m.group(0))
    if m := _priced(_ABOVE, text):
        v = float(m.group(1) or m.group(2))
        return _strip(text, m), PriceIntent(price_min=v, matched=m.group(0))
    if m := _CHEAP.search(text):
        return _strip(text, m), PriceIntent(cheap=True, matched=m.group(0))
    return q, None


def _priced(pattern: re.Pattern[str], text: str) -> re.Match[str] | None:
    """The first match of ``pattern`` that says yuan, or whose number is no measure (see
    ``_MEASURE_BEFORE``)."""
    for m in pattern.finditer(text):
        number = 1 if m.group(1) is not None else 2
        if _CURRENCY_WORD.search(m.group(0)) or not _MEASURE_BEFORE.search(text, 0, m.start(number)):
            return m
    return None


def _strip(text: str, m: re.Match[str]) -> str:
    return re.sub(r"\s+", " ", text[: m.start()] + " " + text[m.end():]).strip()
