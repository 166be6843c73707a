"""Text normalisation shared by index and query time, with offsets kept for highlighting.

Steps, in order:

1. **NFKC**: full-width letters, digits and punctuation become half-width (``ＩＰＨＯＮＥ１５`` ->
   ``IPHONE15``), compatibility forms such as ``㎖`` expand (``ml``).
2. **Case folding** (``str.casefold``), after NFKC so that full-width capitals fold too;
   accents of Latin letters are dropped (``Lancôme`` -> ``lancome``); ``ß`` -> ``ss``.
3. **Traditional -> simplified** with OpenCC's own Python binding (``opencc`` on PyPI, the
   maintained upstream project BYVoid/OpenCC), config ``t2s``.

Why OpenCC ``t2s``: it converts phrase by phrase, not character by character, so
one-to-many characters are resolved in context (``乾隆`` stays, ``乾燥`` becomes ``干燥``),
which the character tables of ``hanziconv`` / ``zhconv`` get wrong. ``t2s`` rather than
``tw2sp`` / ``hk2s`` because shoppers and sellers mix Taiwan and Hong Kong forms, and the
regional phrase conversions (``軟體`` -> ``软件``) would rewrite product words that also
exist in mainland usage. ``t2s`` is variant-neutral and close to 1:1 in length, which keeps
highlight offsets cheap (see :func:`normalize_with_offsets`).

Model numbers: :func:`model_tokens` splits letters from digits and camel case
(``iPhone15ProMax`` -> ``iphone 15 pro max``) and keeps the whole model
(``iphone15promax``) as a token too, so ``iPhone15ProMax``, ``iphone 15 pro max`` and
``ＩＰＨＯＮＥ１５`` share tokens.
"""

from __future__ import annotations

import functools
import html
import re
import unicodedata
from collections.abc import Sequence

import opencc

from analyzers import t2s_triggers

_T2S = opencc.OpenCC("t2s")
#: Text with none of these characters is its own ``t2s`` (see :mod:`analyzers.t2s_triggers`);
#: ``None`` (another OpenCC version than the stored set's): every text goes through OpenCC.
T2S_TRIGGERS: frozenset[str] | None = t2s_triggers.load()
_SPACE = re.compile(r"\s+")

#: A CJK ideograph (basic block + extension A + compatibility ideographs).
CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_RUNS = re.compile(rf"([{CJK}]+)|([a-z0-9]+(?:[.\-_+'][a-z0-9]+)*)")
_CJK_CHAR = re.compile(rf"[{CJK}]")


_LATIN_ACCENTED = re.compile(r"[\u00c0-\u024f]")


def _strip_latin_accents(text: str) -> str:
    # Only Latin letters: NFD would also decompose Hangul syllables into jamo.
    return _LATIN_ACCENTED.sub(
        lambda m: "".join(c for c in unicodedata.normalize("NFD", m.group(0))
                          if not unicodedata.combining(c)),
        text)


def _fold(text: str) -> str:
    """NFKC, Latin accents stripped (``lancôme`` -> ``lancome``), case folded."""
    return _strip_latin_accents(unicodedata.normalize("NFKC", text)).casefold()


def fold_nfkc_char(ch: str) -> str:
    """:func:`_fold` of one character of text that is already NFKC (the native core's call)."""
    return _strip_latin_accents(ch).casefold()


def t2s(text: str) -> str:
    """OpenCC ``t2s`` of ``text`` (no other normalisation); OpenCC is called only when a
    character of ``text`` could change (practically never for simplified text)."""
    if T2S_TRIGGERS is not None and T2S_TRIGGERS.isdisjoint(text):
        return text
    return _T2S.convert(text)


#: :func:`_fold` of one character, cached: titles repeat a few thousand distinct characters.
_fold_char = functools.lru_cache(maxsize=65_536)(_fold)


@functools.lru_cache(maxsize=4096)
def _t2s_char(ch: str) -> str:
    return _T2S.convert(ch)


#: An HTML character reference closed by ``;``: named (``&nbsp;``), decimal or hex. Only closed
#: ones: ``html.unescape`` also reads legacy names without ``;``, so ``fish&parachute`` would
#: lose its ``&para`` to a ¶.
_CHAR_REF = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")


def decode_char_refs(text: str) -> str:
    """``text`` with its HTML character references decoded, twice at most: scraped and exported
    listings carry them, escaped once (``LANC&Ocirc;ME``, ``精华&nbsp;套装``) or twice
    (``LANC&amp;Ocirc;ME``). A reference HTML does not know stays as written; so does a bare
    ``&`` (``AT&T``), and so do ``&lt;`` and ``&gt;``: decoding them would turn escaped markup
    into markup (``&lt;script&gt;``) for a storefront that trusts titles. Text without ``&``
    comes back as it is, at the cost of one search.
    """
    for _ in range(2):
        if "&" not in text:
            break
        decoded = _CHAR_REF.sub(_decode_ref, text)
        if decoded == text:
            break
        text = decoded
    return text


def _decode_ref(match: re.Match[str]) -> str:
    char = html.unescape(match.group())
    return match.group() if char in ("<", ">") else char


def normalize(text: str) -> str:
    """Return ``text`` after NFKC, case folding, traditional->simplified and space collapsing.

    Never raises; non-str input is treated as empty.
    """
    if not text or not isinstance(text, str):
        return ""
    return _SPACE.sub(" ", t2s(_fold(text))).strip()


@functools.lru_cache(maxsize=8192)
def normalize_with_offsets(text: str) -> tuple[str, Sequence[int]]:
    """Normalise ``text`` (without space collapsing) and map every output char to its source.

    Returns ``(normalized, origin)`` where ``origin[i]`` is the index in ``text`` of the
    character that produced ``normalized[i]``. NFKC and case folding are applied per
    character (so expansions such as ``㎖`` -> ``ml`` map to one source char); OpenCC runs
    on the whole string for phrase context and is mapped positionally when it keeps the
    length, which ``t2s`` does for practically all input; otherwise per character.

    Cached by text (8k titles, a few MB): the hits of popular searches are highlighted over
    and over, so ``origin`` is immutable: a ``range`` when every character maps to itself, else a tuple.
    """
    parts = [_fold_char(ch) for ch in text]
    folded_text = "".join(parts)
    origin: Sequence[int]
    if len(folded_text) == len(text) and max(map(len, parts), default=1) == 1:  # one char each: identity
        origin = range(len(text))
    else:
        origin = tuple(i for i, folded in enumerate(parts) for _ in folded)
    converted = t2s(folded_text)
    if len(converted) != len(folded_text):
        converted = "".join(_t2s_char(c) if _CJK_CHAR.match(c) else c for c in folded_text)
        if len(converted) != len(folded_text):  # pragma: no cover - defensive, no known case
            converted = folded_text
    return converted, origin


def script_runs(norm: str) -> list[tuple[str, str, int]]:
    """Split normalised text into ``(kind, text, start)`` runs: ``"cjk"`` or ``"alnum"``.

    Punctuation, spaces and symbols separate runs and are dropped. Latin letters and digits
    stay together in one alnum run (``iphone15promax``, ``sk-ii``, ``15.6``).
    """
    return [("cjk" if m.lastindex == 1 else "alnum", m.group(), m.start()) for m in _RUNS.finditer(norm)]


_CAMEL = re.compile(r"(?<=[a-z]{2})(?=[A-Z])")
_LETTER_DIGIT = re.compile(r"[a-z]+|\d+(?:\.\d+)?")


def camel_split(text: str) -> str:
    """Mark camel-case boundaries of the *un-folded* text with ``-`` (``ProMax`` -> ``Pro-Max``).

    A boundary needs at least two lower-case letters before it, so ``iPhone`` stays whole.
    ``-`` (not a space) keeps the run together, so :func:`model_tokens` still emits the whole
    model (``iphone15promax``) next to its parts. Apply before :func:`normalize`.
    """
    if not text or not isinstance(text, str):
        return ""
    return _CAMEL.sub("-", unicodedata.normalize("NFKC", text))


@functools.lru_cache(maxsize=65536)
def model_tokens(run: str) -> tuple[str, ...]:
    """Tokens of one alnum run: the letter/digit parts and the whole model, in order.

    ``"iphone15"`` -> ``("iphone", "15", "iphone15")``; ``"sk-ii"`` -> ``("sk", "ii", "skii")``;
    ``"15.6"`` -> ``("15.6",)``; ``"nike"`` -> ``("nike",)``. The whole model drops the
    separators ``-``, ``_``, ``+`` and ``'`` so ``xr-2000`` and ``xr2000`` meet.
    """
    parts = _LETTER_DIGIT.findall(run)
    if not parts:
        return ()
    whole = re.sub(r"[\-_+']", "", run)
    if len(parts) == 1 and parts[0] == whole:
        return (whole,)
    out = list(parts)
    if whole not in out:
        out.append(whole)
    return tuple(out)


def is_cjk(ch: str) -> bool:
    """True when ``ch`` is a single CJK ideograph."""
    return bool(_CJK_CHAR.fullmatch(ch))
