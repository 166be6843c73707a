"""Quantities with units, reduced to one canonical token per quantity.

``128G`` / ``128GB`` / ``128gb`` -> ``128gb``; ``500ml`` / ``500毫升`` / ``0.5L`` -> ``500ml``;
``1kg`` / ``1公斤`` / ``1000g`` / ``1000克`` -> ``1000g``. The canonical token is added to the
word stream next to the raw tokens, at index and query time alike, so either spelling finds
the other. Cheap and conservative: only mass, volume, storage and length in mm/cm/m.

Ambiguity: a bare ``G`` is storage when upper case and the number is a memory size
(``64G``, ``128G``), otherwise grams (``50g`` face cream). Call :func:`unit_tokens` on
text that is NFKC-normalised but *not* case folded, so the case is still there.
"""

from __future__ import annotations

import re

_NUM = r"(\d+(?:\.\d+)?)"
# Longest unit spellings first, so "kg" wins over "g" and "毫升" over "升".
_UNIT_TABLE: dict[str, tuple[str, float]] = {
    "千克": ("g", 1000), "公斤": ("g", 1000), "kg": ("g", 1000), "克": ("g", 1), "mg": ("mg", 1),
    "斤": ("g", 500),
    "毫升": ("ml", 1), "ml": ("ml", 1), "升": ("ml", 1000), "l": ("ml", 1000),
    "tb": ("gb", 1024), "gb": ("gb", 1), "t": ("gb", 1024),
    "毫米": ("mm", 1), "mm": ("mm", 1), "厘米": ("mm", 10), "cm": ("mm", 10), "米": ("mm", 1000),
    "g": ("g", 1),
}
_UNITS_RE = "|".join(sorted((re.escape(u) for u in _UNIT_TABLE), key=len, reverse=True))
_QTY = re.compile(rf"(?<![a-z0-9.]){_NUM}\s?({_UNITS_RE})(?![a-z])", re.IGNORECASE)
_MEMORY_SIZES = {"2", "4", "8", "16", "32", "64", "128", "256", "512", "1024"}


def _fmt(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:g}"


def unit_tokens(text: str) -> list[str]:
    """Return the canonical quantity tokens found in ``text`` (NFKC, not case folded).

    ``unit_tokens("iPhone 128G 面霜50ML 1公斤")`` -> ``["128gb", "50ml", "1000g"]``. Never raises.
    """
    out: list[str] = []
    for m in _QTY.finditer(text or ""):
        num, unit = m.group(1), m.group(2)
        key = unit.lower()
        if key == "t" and unit != "T":
            continue  # "5t" trucks, "t恤": only an upper-case T after a number is terabytes
        if key == "g" and unit == "G" and num in _MEMORY_SIZES:
            base, factor = "gb", 1.0
        elif key == "l" and unit not in {"L", "l"}:
            continue
        else:
            base, factor = _UNIT_TABLE[key]
        try:
            out.append(f"{_fmt(float(num) * factor)}{base}")
        except (ValueError, OverflowError):
            continue
    return out
