"""Highlighting of the original title, with offsets that survive normalisation.

The title is normalised character by character with a map back to the original
(:func:`analyzers.normalize.normalize_with_offsets`), query terms are found in the
normalised text, and the marks are projected back: ``ＩＰＨＯＮＥ`` is highlighted for the
query ``iphone`` and ``蘭蔻`` for ``兰蔻``, with the original characters left untouched.
"""

from __future__ import annotations

import html
import re

from analyzers.normalize import normalize_with_offsets
from analyzers.query import QueryAnalysis


def highlight_terms(qa: QueryAnalysis) -> list[str]:
    """Terms worth marking: words of every query form, longest first; single CJK chars only
    when the query has nothing longer."""
    terms: set[str] = set()
    for form in qa.forms or []:
        terms.update(w for w in form.words if w)
    if not terms:
        terms.update(w for w in qa.words if w)
    longer = {t for t in terms if len(t) >= 2 or t.isascii()}
    return sorted(longer or terms, key=len, reverse=True)


def highlight(title: str, qa: QueryAnalysis, *, pre: str = "<em>", post: str = "</em>",
              escape: bool = False, terms: list[str] | None = None) -> str:
    """Return ``title`` with the parts matching ``qa`` wrapped in ``pre``/``post``.

    ``escape=True`` HTML-escapes the title text (not the tags). ``terms``: the query's
    :func:`highlight_terms`, when already computed for the hits of one search. Never raises;
    a title with nothing to mark comes back unchanged.
    """
    if not isinstance(title, str) or not title:
        return title if isinstance(title, str) else ""
    if terms is None:
        terms = highlight_terms(qa)
    if not terms:
        return html.escape(title) if escape else title
    norm, origin = normalize_with_offsets(title)
    marks = bytearray(len(title))
    identity = isinstance(origin, range)  # the common case: every character maps to itself
    for term in terms:  # every non-overlapping occurrence of each term
        at = norm.find(term)
        while at != -1:
            end = at + len(term)
            if identity:
                marks[at:end] = b"\x01" * (end - at)
            else:
                for i in range(at, end):
                    marks[origin[i]] = 1
            at = norm.find(term, end)
    text = html.escape if escape else str
    out: list[str] = []
    done = 0
    for run in _MARKED.finditer(marks):  # runs of marked characters, in order
        out += [text(title[done:run.start()]), pre, text(title[run.start():run.end()]), post]
        done = run.end()
    out.append(text(title[done:]))
    return "".join(out)


_MARKED = re.compile(rb"\x01+")
