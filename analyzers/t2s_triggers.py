"""The characters that can make OpenCC ``t2s`` change a text, so that most texts skip it.

    python -m analyzers.t2s_triggers      # rewrite analyzers/data/t2s_triggers.txt

OpenCC converts by longest match against its dictionaries (``t2s.json``: compatibility
ideographs, then ``TSPhrases``, ``TSCharactersExt``, ``TSCharacters``) and copies every
unmatched character. A match changes the text only when the key's first value differs from
the key. So if some set of characters holds at least one character of every such *changing*
key, a text with none of those characters cannot match a changing key, and ``t2s`` gives it
back unchanged. The set made here is:

* every single-character key whose value differs (``長`` -> ``长``; 5,119 of them), and
* for each changing phrase that has none of those (``乾燥`` -> ``干燥``: ``乾`` alone stays
  ``乾``), one of its characters, preferring one that is a character key (a traditional form).

Simplified product text almost never holds one: 71 of 17,218 real titles do, and the rest
skip OpenCC (about 13% of a product's analysis). The file records the OpenCC version it was
made from; with any other version installed, :func:`load` returns ``None`` and every text
goes through OpenCC, so an upgrade can slow analysis down but never change a token.
``tests/unit/analyzers/test_t2s_triggers.py`` remakes the set from the installed dictionaries.
"""

from __future__ import annotations

import functools
import json
import subprocess
import tempfile
from importlib import metadata
from pathlib import Path

import opencc

DATA_FILE = Path(__file__).resolve().parent / "data" / "t2s_triggers.txt"
_HEADER = "# opencc "


def opencc_version() -> str:
    return metadata.version("opencc")


def _opencc_home() -> Path:
    return Path(opencc.__file__).resolve().parent / "clib"


def _dictionary_files(config: str = "t2s.json") -> list[Path]:
    """The ``.ocd2`` files of an OpenCC config, normalisation first, in chain order."""
    share = _opencc_home() / "share" / "opencc"
    spec = json.loads((share / config).read_text(encoding="utf-8"))
    files: list[Path] = []

    def walk(node: dict) -> None:
        if node.get("type") == "group":
            for d in node["dicts"]:
                walk(d)
        else:
            files.append(share / node["file"])

    for step in (*spec.get("normalization", []), *spec["conversion_chain"]):
        walk(step["dict"])
    return files


def _entries(ocd2: Path) -> list[tuple[str, str]]:
    """``(key, first value)`` of an ``.ocd2`` dictionary, through OpenCC's own ``opencc_dict``."""
    tool = _opencc_home() / "bin" / "opencc_dict"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "dict.txt"
        subprocess.run([str(tool), "-i", str(ocd2), "-o", str(out), "-f", "ocd2", "-t", "text"],
                       check=True, capture_output=True)
        rows = []
        for line in out.read_text(encoding="utf-8").splitlines():
            key, _, values = line.partition("\t")
            if key:
                rows.append((key, values.split(" ")[0]))
    return rows


def generate() -> set[str]:
    """The trigger set of the installed OpenCC (needs the ``opencc_dict`` tool of its wheel)."""
    entries = [e for f in _dictionary_files() for e in _entries(f)]
    char_keys = {k for k, _ in entries if len(k) == 1}
    triggers = {k for k, v in entries if len(k) == 1 and v != k}
    for key, value in entries:
        if len(key) > 1 and value != key and triggers.isdisjoint(key):
            triggers.add(next((c for c in key if c in char_keys), key[0]))
    return triggers


def write(path: Path = DATA_FILE) -> int:
    chars = sorted(generate())
    lines = [f"{_HEADER}{opencc_version()}",
             "# Made by `python -m analyzers.t2s_triggers`: see that module. 64 characters a line."]
    lines += ["".join(chars[i:i + 64]) for i in range(0, len(chars), 64)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(chars)


@functools.cache
def load(path: Path = DATA_FILE) -> frozenset[str] | None:
    """The stored trigger set, or ``None`` when it was made from another OpenCC version."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return None
    lines = text.splitlines()
    if not lines or lines[0] != f"{_HEADER}{opencc_version()}":
        return None
    return frozenset(ch for line in lines if not line.startswith("#") for ch in line)


if __name__ == "__main__":
    print(f"{write()} characters written to {DATA_FILE}")
