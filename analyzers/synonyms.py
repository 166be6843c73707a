"""Query-time synonyms, read from a plain text file that ops can extend.

File format (``analyzers/data/synonyms.txt``), one rule per line, UTF-8:

* ``手机, 移动电话`` -- an equivalence group: each term finds all the others.
* ``苹果手机 => iphone`` -- one-way: the left side(s) also search the right side(s),
  not the reverse (``a, b => c, d``).
* ``#`` starts a comment; blank lines are ignored.

Terms are normalised with :func:`analyzers.normalize.normalize` (so full width, case and
traditional characters do not matter). A term may contain spaces (``estee lauder``).
Synonyms are applied only at query time, in Python, so editing the file needs no reindex
and does not change :attr:`analyzers.Analyzer.version`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from analyzers.normalize import normalize


class SynonymTable:
    """Maps a normalised term to the other terms it should also search."""

    def __init__(self, rules: dict[str, set[str]]) -> None:
        self._rules = {k: frozenset(v - {k}) for k, v in rules.items() if v - {k}}
        self.max_term_len = max((len(k) for k in self._rules), default=0)

    @classmethod
    def from_lines(cls, lines: list[str]) -> SynonymTable:
        """Parse rule lines (see the module docstring); malformed lines are skipped."""
        rules: dict[str, set[str]] = defaultdict(set)
        for raw in lines:
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            if "=>" in line:
                left, _, right = line.partition("=>")
                lhs = _terms(left)
                rhs = _terms(right)
                for term in lhs:
                    rules[term].update(rhs)
            else:
                group = _terms(line)
                for term in group:
                    rules[term].update(group)
        return cls(dict(rules))

    @classmethod
    def from_files(cls, paths: list[Path]) -> SynonymTable:
        """Load and merge synonym files in order; missing files are skipped."""
        lines: list[str] = []
        for path in paths:
            if path.exists():
                lines.extend(path.read_text(encoding="utf-8").splitlines())
        return cls.from_lines(lines)

    def __len__(self) -> int:
        return len(self._rules)

    def alternatives(self, term: str) -> frozenset[str]:
        """Other terms that ``term`` (already normalised) should also find."""
        return self._rules.get(term, frozenset())

    def find(self, norm: str, accept: Callable[[str], bool] | None = None) -> list[tuple[str, frozenset[str]]]:
        """Every rule term that occurs in the normalised query, longest first, with its alternatives.

        Substring matching, because Chinese queries have no spaces (``苹果手机壳`` contains
        ``手机``). A term already covered by a longer matched term is skipped. ``accept`` may
        refuse a term where it occurs (the query side refuses a brand inside another word); a
        refused term covers nothing, so a shorter term inside it is still found.
        """
        found: list[tuple[str, frozenset[str]]] = []
        covered: list[tuple[int, int]] = []
        text = norm
        for length in range(min(self.max_term_len, len(text)), 0, -1):
            for start in range(0, len(text) - length + 1):
                term = text[start:start + length]
                alts = self._rules.get(term)
                if not alts:
                    continue
                end = start + length
                if any(s <= start and end <= e for s, e in covered):
                    continue
                if term.isascii() and not _ascii_bounded(text, start, end):
                    continue
                if accept is not None and not accept(term):
                    continue
                covered.append((start, end))
                found.append((term, alts))
        return found


def _ascii_bounded(text: str, start: int, end: int) -> bool:
    """An ASCII term must not be glued to other letters (``hp`` inside ``iphone``)."""
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    return not (before.isascii() and before.isalpha()) and not (after.isascii() and after.isalpha())


def _terms(part: str) -> set[str]:
    return {t for t in (normalize(x) for x in part.split(",")) if t}
